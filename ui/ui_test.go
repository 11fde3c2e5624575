package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/api"
)

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/systems/web001":  "/ui/systems/web001",
		"/ui/?state=failed":   "/ui/?state=failed",
		"":                    "/ui/",
		"https://evil.test/":  "/ui/",
		"//evil.test/ui/":     "/ui/",
		"/ui/\\evil":          "/ui/",
		"/api/v1/export":      "/ui/",
		"/ui/x\r\nSet-Cookie": "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// newTestUI is the dashboard over an API seam that answers every request
// with an empty fleet, and a token "adm" that may write.
func newTestUI(t *testing.T) http.Handler {
	fake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer adm" {
			http.Error(w, `{"error":"wrong token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/fleet":
			w.Write([]byte(`{"total":0,"counts":{},"matched":0,"offset":0,"limit":100,"systems":[]}`))
		default:
			w.Write([]byte(`[]`))
		}
	})
	auth := func(tok string) (api.Caller, bool) { return api.Caller{Name: "admin", Write: true}, tok == "adm" }
	return Handler(Config{API: fake, Auth: auth})
}

func do(h http.Handler, method, target string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Without a session a page sends the browser to the login form and a
// fragment or the stream answers 401; a wrong token makes no session; a
// right one makes a cookie that scripts cannot read and other sites'
// requests do not carry; a form without the session's CSRF token is
// refused; logging out ends the session.
func TestSessions(t *testing.T) {
	h := newTestUI(t)
	if w := do(h, "GET", "/ui/systems/web001", nil, nil); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/ui/login?next=") {
		t.Errorf("a page without a session: %d %s", w.Code, w.Header().Get("Location"))
	}
	for _, p := range []string{"/ui/rows", "/ui/stream", "/ui/systems/web001/live"} {
		if w := do(h, "GET", p, nil, nil); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", p, w.Code)
		}
	}
	w := do(h, "POST", "/ui/login", url.Values{"token": {"wrong"}}, nil)
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 0 || !strings.Contains(w.Header().Get("Location"), "error=1") {
		t.Errorf("a wrong token: %d %v %s", w.Code, w.Result().Cookies(), w.Header().Get("Location"))
	}
	w = do(h, "POST", "/ui/login", url.Values{"token": {"adm"}, "next": {"/ui/systems/web001"}}, nil)
	cs := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/systems/web001" || len(cs) != 1 {
		t.Fatalf("login: %d %s %v", w.Code, w.Header().Get("Location"), cs)
	}
	c := cs[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui/" || c.Value == "adm" || len(c.Value) != 64 {
		t.Errorf("the session cookie: %+v", c)
	}
	w = do(h, "GET", "/ui/", nil, c)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Fleet") || strings.Contains(w.Body.String(), "adm\"") {
		t.Fatalf("the fleet with the session: %d\n%s", w.Code, w.Body.String())
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	if w := do(h, "POST", "/ui/systems/web001/action", url.Values{"action": {"netboot-off"}, "confirm": {"web001"}}, c); w.Code != http.StatusForbidden {
		t.Errorf("an action without the CSRF token: %d, want 403", w.Code)
	}
	if w := do(h, "POST", "/ui/logout", url.Values{"csrf": {"not-it"}}, c); w.Code != http.StatusForbidden {
		t.Errorf("a logout with a wrong CSRF token: %d, want 403", w.Code)
	}
}

func TestSessionExpires(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ss := s.create("adm", api.Caller{Name: "admin"})
	r := httptest.NewRequest("GET", "/ui/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: ss.id})
	now = now.Add(sessionTTL - time.Minute)
	if s.get(r) == nil {
		t.Fatal("a session used within its lifetime ended")
	}
	now = now.Add(sessionTTL - time.Minute) // the last use extended it
	if s.get(r) == nil {
		t.Fatal("a session's lifetime does not count from its last use")
	}
	now = now.Add(sessionTTL + time.Second)
	if s.get(r) != nil {
		t.Fatal("an idle session outlived its lifetime")
	}
	for range maxSessions + 10 {
		s.create("adm", api.Caller{})
	}
	if len(s.all) > maxSessions {
		t.Errorf("%d sessions kept, at most %d", len(s.all), maxSessions)
	}
}
