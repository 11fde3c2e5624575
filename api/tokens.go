package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/provision/provision/registry"
)

// TokenInput asks for a new token of a user.
type TokenInput struct {
	User  string `json:"user"`
	Label string `json:"label,omitempty"`
	// Expires is RFC 3339; "": never.
	Expires string `json:"expires,omitempty"`
}

// NewToken is a token just made: the only answer that holds the token
// itself (only its hash is kept).
type NewToken struct {
	Secret string `json:"token"` // prv_ID_..., shown once
	registry.Token
}

// TokensRevoked says how many tokens of a user were revoked.
type TokensRevoked struct {
	User    string `json:"user"`
	Revoked int    `json:"revoked"`
}

// listTokens lists every user's tokens, or one user's (?user=NAME),
// without the tokens themselves.
func (s *server) listTokens(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	user := r.URL.Query().Get("user")
	if _, ok := snap.User(user); user != "" && !ok {
		writeError(w, http.StatusNotFound, "user "+user+" not found")
		return
	}
	out := []*registry.Token{}
	writeJSON(w, http.StatusOK, append(out, snap.Tokens(user)...))
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) {
	var in TokenInput
	if !decode(w, r, &in) {
		return
	}
	exp, err := parseExpiry(in.Expires, time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	secret, t, err := s.Registry.CreateToken(r.Context(), in.User, in.Label, exp, false)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, NewToken{Secret: secret, Token: *t})
}

// parseExpiry reads a token's expiry: RFC 3339 in the future, or ""
// for never (the zero time).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	exp, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return exp, fmt.Errorf("expires %q: give a time in RFC 3339 (2026-12-31T00:00:00Z), or none for never", s)
	}
	if !exp.After(now) {
		return exp, fmt.Errorf("expires %s: that is past", s)
	}
	return exp, nil
}

// revokeToken removes one token; it fails at its next request.
func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) {
	t, err := s.Registry.RevokeToken(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// revokeTokens removes every token of ?user=NAME.
func (s *server) revokeTokens(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if user == "" {
		writeError(w, http.StatusBadRequest, "give ?user=NAME (every token of that user), or DELETE /api/v1/tokens/ID for one")
		return
	}
	n, err := s.Registry.RevokeTokens(r.Context(), user)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, TokensRevoked{User: user, Revoked: n})
}
