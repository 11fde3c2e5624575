package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/images"
	"github.com/provision/provision/ldapauth"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// testClock is a clock the tests move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// usersServer is the API over a seeded registry (with db01, a system of
// a profile with a kickstart), its tokens the users' (api.UserTokens at
// clock's time) and the token files "tok" (admin) and "ro" (viewer).
func usersServer(t *testing.T, clock *testClock, login func(context.Context, string, string) (*registry.User, error)) (*httptest.Server, *registry.Registry) {
	t.Helper()
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t, func() error {
		_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "debian12-preseed"})
		return err
	}, func() error {
		_, err := reg.AddSystem(ctx, registry.System{Name: "db01", IP: "10.0.0.12", Profile: "inst", MACs: []string{"aa:bb:cc:00:00:12"}})
		return err
	})
	blobs, err := images.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(Config{Registry: reg, Blobs: blobs, Auth: UserTokens(reg, Tokens("tok", "ro"), clock.Now), Login: login,
		LoginTTL: time.Hour, Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	srv := httptest.NewServer(validated(t, h))
	t.Cleanup(srv.Close)
	return srv, reg
}

// Only an admin manages users and tokens: an operator and a viewer are
// refused, and told why.
func TestUsersTokensNeedAdmin(t *testing.T) {
	srv, _ := rightsServer(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/users", ""},
		{"POST", "/api/v1/users", `{"name":"zoe","role":"viewer"}`},
		{"PUT", "/api/v1/users/zoe", `{"name":"zoe","role":"admin"}`},
		{"GET", "/api/v1/tokens", ""},
		{"POST", "/api/v1/tokens", `{"user":"zoe"}`},
		{"DELETE", "/api/v1/tokens?user=zoe", ""},
		{"DELETE", "/api/v1/users/zoe", ""},
	} {
		for _, role := range []string{"viewer", "operator", "admin"} {
			code, body := do(t, srv, c.method, c.path, role, c.body)
			if role != "admin" && (code != 403 || !strings.Contains(body, "may not manage users and tokens (the users right): that takes the admin role")) {
				t.Errorf("%s %s as %s: %d %s, want 403", c.method, c.path, role, code, body)
			}
			if role == "admin" && code >= 300 {
				t.Errorf("%s %s as admin: %d %s", c.method, c.path, code, body)
			}
		}
	}
}

// A token made through the API authenticates at the next request, signs
// history as USER/LABEL, and fails at the next request after its
// revocation or its expiry.
func TestUserTokenLifecycle(t *testing.T) {
	clock := &testClock{now: time.Now()}
	srv, reg := usersServer(t, clock, nil)
	mustDo(t, srv, "POST", "/api/v1/users", "tok", `{"name":"alice","role":"operator","full_name":"Alice"}`, 201)
	exp := clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var tok NewToken
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/tokens", "tok", `{"user":"alice","label":"laptop","expires":"`+exp+`"}`, 201), &tok)
	if !strings.HasPrefix(tok.Secret, "prv_"+tok.ID+"_") || tok.User != "alice" || tok.Expires != exp {
		t.Fatalf("new token: %+v", tok)
	}
	var who Caller
	decodeInto(t, mustDo(t, srv, "GET", "/api/v1/whoami", tok.Secret, "", 200), &who)
	if who.Name != "alice" || who.Token != "laptop" || who.Role != access.Operator {
		t.Errorf("whoami with alice's token: %+v", who)
	}
	mustDo(t, srv, "POST", "/api/v1/systems/db01/reinstall", tok.Secret, "", 200)
	if code, body := do(t, srv, "PUT", "/api/v1/templates/x", tok.Secret, `{"name":"x","kind":"script","text":"x"}`); code != 403 {
		t.Errorf("an operator edits a template: %d %s", code, body)
	}
	hist, err := reg.History(context.Background(), "db01", 10)
	if err != nil || len(hist) == 0 || hist[len(hist)-1].By != "alice/laptop" {
		t.Errorf("history of db01: %+v %v; want the last by alice/laptop", hist, err)
	}
	var list []registry.Token
	decodeInto(t, mustDo(t, srv, "GET", "/api/v1/tokens?user=alice", "tok", "", 200), &list)
	if len(list) != 1 || list[0].ID != tok.ID || strings.Contains(fmt.Sprint(list), tok.Secret) {
		t.Errorf("token list: %+v", list)
	}
	clock.Add(time.Hour)
	if code, body := do(t, srv, "GET", "/api/v1/whoami", tok.Secret, ""); code != 401 || !strings.Contains(body, "expired") {
		t.Errorf("an expired token: %d %s", code, body)
	}
	var other NewToken
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/tokens", "tok", `{"user":"alice","label":"ci"}`, 201), &other)
	mustDo(t, srv, "GET", "/api/v1/whoami", other.Secret, "", 200)
	mustDo(t, srv, "DELETE", "/api/v1/tokens/"+other.ID, "tok", "", 200)
	if code, body := do(t, srv, "GET", "/api/v1/whoami", other.Secret, ""); code != 401 {
		t.Errorf("a revoked token: %d %s", code, body)
	}
	tokenRevocations(t, srv)
}

// tokenRevocations: every token of a user at once, and the user's
// removal, end their tokens; bad input is refused.
func tokenRevocations(t *testing.T, srv *httptest.Server) {
	var a, b NewToken
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/tokens", "tok", `{"user":"alice","label":"a"}`, 201), &a)
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/tokens", "tok", `{"user":"alice","label":"b"}`, 201), &b)
	var n TokensRevoked
	decodeInto(t, mustDo(t, srv, "DELETE", "/api/v1/tokens?user=alice", "tok", "", 200), &n)
	if n.Revoked < 2 {
		t.Errorf("revoked %+v, want at least 2", n)
	}
	for _, s := range []string{a.Secret, b.Secret} {
		if code, _ := do(t, srv, "GET", "/api/v1/whoami", s, ""); code != 401 {
			t.Errorf("a token of alice after revoking all: %d", code)
		}
	}
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/tokens", "tok", `{"user":"alice"}`, 201), &a)
	mustDo(t, srv, "DELETE", "/api/v1/users/alice", "tok", "", 204)
	if code, _ := do(t, srv, "GET", "/api/v1/whoami", a.Secret, ""); code != 401 {
		t.Errorf("a token of a removed user: %d", code)
	}
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/api/v1/tokens", `{"user":"nobody"}`, "user nobody not found"},
		{"POST", "/api/v1/users", `{"name":"bob","role":"root"}`, "not one of viewer, operator, admin"},
		{"POST", "/api/v1/users", `{"name":"bob","role":"viewer","source":"ldap"}`, "unknown field"},
		{"POST", "/api/v1/users", `{"name":"admin","role":"viewer"}`, "reserved"},
		{"POST", "/api/v1/tokens", `{"user":"ro","expires":"tomorrow"}`, "RFC 3339"},
		{"POST", "/api/v1/tokens", `{"user":"ro","expires":"2001-01-01T00:00:00Z"}`, "past"},
		{"DELETE", "/api/v1/tokens", "", "give ?user=NAME"},
		{"DELETE", "/api/v1/tokens/0123456789ab", "", "not found"},
	} {
		if code, body := do(t, srv, c.method, c.path, "tok", c.body); code < 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s: %d %s, want %q", c.method, c.path, c.body, code, body, c.want)
		}
	}
}

// Directory login: a person the Login knows gets a token of theirs for
// LoginTTL, made in their name; the others get 401, 403 or 503 with the
// reason, and too many attempts from one address 429.
func TestLogin(t *testing.T) {
	login := func(ctx context.Context, user, password string) (*registry.User, error) {
		switch {
		case user == "down":
			return nil, fmt.Errorf("directory ldaps://x: %w", ldapauth.ErrUnreachable)
		case user == "stray":
			return nil, &access.Denied{Msg: "stray signed in, but is in none of the groups mapped to a role: ops"}
		case user != "dana" || password != "pw":
			return nil, fmt.Errorf("directory ldaps://x: wrong user name or password for %s: %w", user, ldapauth.ErrBadCredentials)
		}
		reg := registry.ActorOf(ctx) // the name typed, from the client's address
		if reg.Name != "dana" || reg.Addr != "127.0.0.1" {
			return nil, errors.New("login called without the actor")
		}
		return &registry.User{Name: "dana", Role: "operator", Source: registry.SourceLDAP}, nil
	}
	clock := &testClock{now: time.Now()}
	srv, reg := usersServer(t, clock, login)
	if err := reg.PutDirectoryUser(context.Background(), registry.User{Name: "dana", Role: "operator"}); err != nil {
		t.Fatal(err)
	}
	for range loginBurst + 2 { // successes are not limited
		mustDo(t, srv, "POST", "/api/v1/login", "", `{"user":"dana","password":"pw"}`, 201)
	}
	var ans LoginAnswer
	decodeInto(t, mustDo(t, srv, "POST", "/api/v1/login", "", `{"user":"dana","password":"pw"}`, 201), &ans)
	exp, _ := time.Parse(time.RFC3339, ans.Expires)
	if ans.User.Name != "dana" || exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("login answer: %+v", ans)
	}
	var who Caller
	decodeInto(t, mustDo(t, srv, "GET", "/api/v1/whoami", ans.Token, "", 200), &who)
	if who.Name != "dana" || who.Token != "login" {
		t.Errorf("whoami after login: %+v", who)
	}
	if hist, _ := reg.History(context.Background(), "", 1); len(hist) != 1 || hist[0].By != "dana" {
		t.Errorf("the login token's history: %+v, want by dana", hist)
	}
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"user":"dana","password":"no"}`, 401, "wrong user name or password for dana"},
		{`{"user":"down","password":"pw"}`, 503, "directory ldaps://x"},
		{`{"user":"stray","password":"pw"}`, 403, "none of the groups mapped to a role"},
		{`{"user":"dana","password":"pw","otp":1}`, 400, "unknown field"},
	} {
		if code, body := do(t, srv, "POST", "/api/v1/login", "", c.body); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("login %s: %d %s, want %d %q", c.body, code, body, c.code, c.want)
		}
	}
	loginFlood(t, srv)
}

// loginFlood: beyond loginBurst failures, 429 with Retry-After, even
// for the right password.
func loginFlood(t *testing.T, srv *httptest.Server) {
	for range loginBurst {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/login", strings.NewReader(`{"user":"eve","password":"guess"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") != "6" {
				t.Errorf("429 without Retry-After: %v", resp.Header)
			}
			if code, body := do(t, srv, "POST", "/api/v1/login", "", `{"user":"dana","password":"pw"}`); code != 429 || !strings.Contains(body, "too many failed sign-ins from 127.0.0.1") {
				t.Errorf("the right password after too many failures: %d %s", code, body)
			}
			return
		}
	}
	t.Errorf("%d more failed logins from one address were all answered", loginBurst)
}

// Without Login, the route says directory login is not configured.
func TestLoginNotConfigured(t *testing.T) {
	srv, _ := usersServer(t, &testClock{now: time.Now()}, nil)
	if code, body := do(t, srv, "POST", "/api/v1/login", "", `{"user":"a","password":"b"}`); code != 404 || !strings.Contains(body, "directory login is not configured") {
		t.Errorf("login without Login: %d %s", code, body)
	}
}

func mustDo(t *testing.T, srv *httptest.Server, method, path, token, body string, want int) string {
	t.Helper()
	code, out := do(t, srv, method, path, token, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, out, want)
	}
	return out
}

func decodeInto(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}
