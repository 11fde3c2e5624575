package api

import (
	"errors"
	"net"
	"net/http"

	"github.com/provision/provision/access"
	"github.com/provision/provision/registry"
)

// Caller is who a request comes from, as whoami answers it.
type Caller struct {
	Name   string         `json:"name"`            // the user; "admin" or "read-only" for the token files
	Token  string         `json:"token,omitempty"` // the token's label
	Role   access.Role    `json:"role"`
	Scopes []string       `json:"scopes,omitempty"`
	Rights []access.Right `json:"rights"`
	Write  bool           `json:"write"` // may edit the registry
}

// CallerOf is what whoami answers for p.
func CallerOf(p access.Principal) Caller {
	c := Caller{Name: p.Name, Token: p.Token, Role: p.Role, Write: p.Can(access.Edit) == nil}
	for _, sc := range p.Scopes {
		c.Scopes = append(c.Scopes, sc.String())
	}
	for _, r := range p.Role.Rights() {
		if p.Can(r) == nil {
			c.Rights = append(c.Rights, r)
		}
	}
	return c
}

// route registers h for pattern behind the right routeRights gives it:
// a route without one is a programming error.
func (s *server) route(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	n, ok := routeRights[pattern]
	if !ok {
		panic("api: route " + pattern + " has no right in routeRights")
	}
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := s.permit(r, n); err != nil {
			writeError(w, http.StatusForbidden, err.Error())
			return
		}
		h(w, r)
	})
}

// permit checks the request's principal against what the route needs.
func (s *server) permit(r *http.Request, n need) error {
	p, _ := registry.PrincipalOf(r.Context())
	for _, right := range []access.Right{n.right, extraRight(r)} {
		if right == "" {
			continue
		}
		if err := p.Can(right); err != nil {
			return err
		}
	}
	if len(p.Scopes) == 0 {
		return nil
	}
	switch n.scope {
	case noScope:
		return p.NotOneSystem(r.Method + " " + r.URL.Path)
	case pathScope:
		snap := s.snap()
		if sys, ok := snap.SystemByName(r.PathValue("name")); ok {
			return p.CheckSystem(n.right, sys.Name, snap.SiteOf(sys), sys.Profile)
		}
	}
	return nil
}

// extraRight is what the request's query asks beyond its route's right:
// ?secrets=1 the secrets, ?fresh=1 (asking BMCs now) power.
func extraRight(r *http.Request) access.Right {
	switch {
	case wantSecrets(r):
		return access.Secrets
	case r.URL.Query().Get("fresh") != "" && r.Method == http.MethodGet:
		return access.Power
	}
	return ""
}

// authorized asks every request but the public routes for a token, and
// puts who it belongs to in the request's context: for the routes'
// rights (route), and for history (the registry's Actor).
func (s *server) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public[r.Method+" "+r.URL.Path] || r.URL.Path == "/healthz" || r.URL.Path == OpenAPIPath {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.principal(r.Header.Get("Authorization"))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="provision"`)
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		next.ServeHTTP(w, asPrincipal(r, p))
	})
}

// asPrincipal is the request's context carrying p, for the routes and
// for history.
func asPrincipal(r *http.Request, p access.Principal) *http.Request {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ctx := registry.WithActor(r.Context(), registry.Actor{Name: p.By(), Addr: host})
	ctx = registry.WithPrincipal(ctx, p)
	if r.URL.Query().Get("public") == "1" { // the CLI's --public: secret-looking setting keys hold no secret
		ctx = registry.Public(ctx)
	}
	return r.WithContext(ctx)
}

var errNoToken = errors.New("missing API token (set PROVISION_TOKEN, or provision login)")

// principal is who the Authorization header's bearer token belongs to.
func (s *server) principal(h string) (access.Principal, error) {
	const prefix = "Bearer "
	if s.Auth == nil || len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return access.Principal{}, errNoToken
	}
	return s.Auth(h[len(prefix):])
}

// whoami says who the request's token belongs to, with its role, scopes
// and rights.
func (s *server) whoami(w http.ResponseWriter, r *http.Request) {
	p, _ := registry.PrincipalOf(r.Context())
	writeJSON(w, http.StatusOK, CallerOf(p))
}
