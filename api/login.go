package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/provision/provision/access"
	"github.com/provision/provision/internal/ratelimit"
	"github.com/provision/provision/ldapauth"
	"github.com/provision/provision/registry"
)

// LoginInput is a person signing in with the directory's password.
type LoginInput struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoginAnswer is a sign-in's short-lived token (shown once), when it
// expires, and who signed in.
type LoginAnswer struct {
	Token   string         `json:"token"`
	Expires string         `json:"expires"` // RFC 3339
	User    *registry.User `json:"user"`
}

// DefaultLoginTTL is how long a sign-in's token lasts when
// Config.LoginTTL does not say.
const DefaultLoginTTL = 12 * time.Hour

// Failed sign-ins from one client address: a burst of loginBurst, then
// one every loginEvery (beyond that, every attempt is refused until
// then); loginClients addresses are tracked.
const (
	loginBurst   = 10
	loginEvery   = 6 * time.Second
	loginClients = 10000
)

func newLoginLimiter() *ratelimit.Limiter {
	return ratelimit.New(float64(time.Second)/float64(loginEvery), loginBurst, loginClients)
}

// login signs a person in through Config.Login and answers a token of
// theirs that expires after LoginTTL, made in their name (history's by).
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	if s.Login == nil {
		writeError(w, http.StatusNotFound, "directory login is not configured (ldap: in the appliance's config file)")
		return
	}
	host := remoteHost(r)
	if !s.logins.Peek(host, time.Now()) {
		w.Header().Set("Retry-After", strconv.Itoa(int(loginEvery/time.Second)))
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed sign-ins from %s: try again in %s", host, loginEvery))
		s.Log.Warn("login refused: too many failed attempts", "remote", host)
		return
	}
	var in LoginInput
	if !decode(w, r, &in) {
		return
	}
	ctx := registry.WithActor(r.Context(), registry.Actor{Name: in.User, Addr: host})
	u, err := s.Login(ctx, in.User, in.Password)
	if err != nil {
		s.loginFailed(w, host, in.User, err)
		return
	}
	out, err := s.loginToken(registry.WithActor(ctx, registry.Actor{Name: u.Name, Addr: host}), u)
	if err != nil {
		fail(w, err)
		return
	}
	s.Log.Info("login", "user", u.Name, "role", u.Role, "remote", host, "expires", out.Expires)
	writeJSON(w, http.StatusCreated, out)
}

// loginToken makes the short-lived token of u's sign-in.
func (s *server) loginToken(ctx context.Context, u *registry.User) (*LoginAnswer, error) {
	ttl := s.LoginTTL
	if ttl <= 0 {
		ttl = DefaultLoginTTL
	}
	secret, t, err := s.Registry.CreateToken(ctx, u.Name, "login", time.Now().Add(ttl), true)
	if err != nil {
		return nil, err
	}
	return &LoginAnswer{Token: secret, Expires: t.Expires, User: u}, nil
}

// loginFailed answers and logs a refused sign-in (never its password):
// 401 for a wrong name or password, 503 for a directory that cannot be
// used, 403 for a person no group gives a role.
func (s *server) loginFailed(w http.ResponseWriter, host, user string, err error) {
	s.logins.Allow(host, time.Now()) // counts the failure
	s.Log.Warn("login refused", "user", user, "remote", host, "err", err)
	var denied *access.Denied
	switch {
	case errors.Is(err, ldapauth.ErrBadCredentials):
		writeError(w, http.StatusUnauthorized, err.Error())
	case errors.Is(err, ldapauth.ErrUnreachable), errors.Is(err, ldapauth.ErrUntrusted):
		writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.As(err, &denied):
		writeError(w, http.StatusForbidden, err.Error())
	default:
		fail(w, err)
	}
}

// remoteHost is the client's address without its port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
