package api

import (
	"net/http"

	"github.com/provision/provision/registry"
)

// UserInput is a user as the API takes it: registry.User without its
// source (a directory login sets that).
type UserInput struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Scopes   []string `json:"scopes,omitempty"`
	FullName string   `json:"full_name,omitempty"`
}

func (in UserInput) user() registry.User {
	return registry.User{Name: in.Name, Role: in.Role, Scopes: in.Scopes, FullName: in.FullName}
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().Users())
}

func (s *server) showUser(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().User(r.PathValue("name"))
	found(w, v, ok, "user", r.PathValue("name"))
}

func (s *server) addUser(w http.ResponseWriter, r *http.Request) {
	var in UserInput
	if !decode(w, r, &in) {
		return
	}
	if err := s.Registry.AddUser(r.Context(), in.user()); err != nil {
		fail(w, err)
		return
	}
	v, _ := s.snap().User(in.Name)
	writeJSON(w, http.StatusCreated, v)
}

// editUser replaces a user's role, scopes and full name; a user is not
// renamed, and keeps its source.
func (s *server) editUser(w http.ResponseWriter, r *http.Request) {
	var in UserInput
	if !decode(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	if err := s.Registry.EditUser(r.Context(), name, in.user()); err != nil {
		fail(w, err)
		return
	}
	v, _ := s.snap().User(name)
	writeJSON(w, http.StatusOK, v)
}

// removeUser removes a user with every token of theirs.
func (s *server) removeUser(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveUser(r.Context(), r.PathValue("name")))
}
