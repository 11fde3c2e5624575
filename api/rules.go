package api

import (
	"context"
	"net/http"

	"github.com/provision/provision/registry"
)

func (s *server) listRules(w http.ResponseWriter, r *http.Request) {
	out := s.snap().Rules()
	if out == nil {
		out = []*registry.Rule{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) showRule(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().Rule(r.PathValue("name"))
	found(w, v, ok, "rule", r.PathValue("name"))
}

// storedRule answers the rule name as the registry now has it.
func (s *server) storedRule(w http.ResponseWriter, status int, name string, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	v, ok := s.snap().Rule(name)
	if !ok {
		writeError(w, http.StatusNotFound, "rule "+name+" not found")
		return
	}
	w.Header().Set("ETag", ETag(v))
	writeJSON(w, status, v)
}

func (s *server) addRule(w http.ResponseWriter, r *http.Request) {
	var in registry.Rule
	if decode(w, r, &in) {
		s.storedRule(w, http.StatusCreated, in.Name, s.Registry.AddRule(r.Context(), in))
	}
}

// editRule replaces a rule; a rule keeps its name (add one and remove the
// other to rename).
func (s *server) editRule(w http.ResponseWriter, r *http.Request) {
	var in registry.Rule
	if !decode(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	if in.Name == "" {
		in.Name = name
	}
	if in.Name != name {
		writeError(w, http.StatusBadRequest, "rule "+name+": a rule cannot be renamed (add one and remove the other)")
		return
	}
	r = expect(r, registry.ObjRule)
	s.storedRule(w, http.StatusOK, name, s.Registry.EditRule(r.Context(), name, in))
}

func (s *server) patchRule(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.patchObject(w, r, registry.ObjRule,
		func(sn *registry.Snapshot, n string) (any, bool) { return sn.Rule(n) },
		func(ctx context.Context, _ any, merged []byte) (any, error) {
			var in registry.Rule
			if err := decodeStrict(merged, &in, "rule", name); err != nil {
				return nil, err
			}
			if in.Name != name {
				return nil, &registry.Error{Kind: registry.ErrInvalid, Msg: "rule " + name + ": a rule cannot be renamed (add one and remove the other)"}
			}
			if err := s.Registry.EditRule(ctx, name, in); err != nil {
				return nil, err
			}
			v, _ := s.snap().Rule(name)
			return v, nil
		})
}

func (s *server) removeRule(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveRule(r.Context(), r.PathValue("name")))
}

// testRule answers what rule {name} would do now with the machine
// {"key": MAC or serial}, writing nothing.
func (s *server) testRule(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Key string `json:"key"`
	}
	if !decode(w, r, &in) {
		return
	}
	name := r.PathValue("name")
	if _, ok := s.snap().Rule(name); !ok {
		writeError(w, http.StatusNotFound, "rule "+name+" not found")
		return
	}
	if in.Key == "" {
		writeError(w, http.StatusBadRequest, "rule "+name+": test which machine? (body {\"key\": MAC or DMI serial})")
		return
	}
	r.SetPathValue("key", in.Key)
	if _, ok := s.machine(w, r); !ok {
		return
	}
	out, err := s.Registry.TestRule(r.Context(), name, in.Key)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
