package ui

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
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
	auth := api.Tokens("adm", "")
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
	w := login(h, url.Values{"token": {"wrong"}}, "")
	if w.Code != http.StatusSeeOther || sessionCookie(w) != nil || !strings.Contains(w.Header().Get("Location"), "error=1") {
		t.Errorf("a wrong token: %d %v %s", w.Code, w.Result().Cookies(), w.Header().Get("Location"))
	}
	w = login(h, url.Values{"token": {"adm"}, "next": {"/ui/systems/web001"}}, "")
	c := sessionCookie(w)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/systems/web001" || c == nil {
		t.Fatalf("login: %d %s %v", w.Code, w.Header().Get("Location"), w.Result().Cookies())
	}
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

// login fills the login form as a browser does: the page's CSRF cookie
// and field, sent from origin ("" for none).
func login(h http.Handler, form url.Values, origin string) *httptest.ResponseRecorder {
	page := do(h, "GET", "/ui/login", nil, nil)
	var csrf *http.Cookie
	for _, c := range page.Result().Cookies() {
		if c.Name == loginCookie {
			csrf = c
		}
	}
	if csrf != nil {
		form.Set("csrf", csrf.Value)
	}
	r := httptest.NewRequest("POST", "/ui/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if csrf != nil {
		r.AddCookie(csrf)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}

// The login form carries a CSRF token (in a cookie and a field, double
// submit): a POST without it, or sent from another site's page, makes no
// session.
func TestLoginCSRF(t *testing.T) {
	h := newTestUI(t)
	if w := do(h, "POST", "/ui/login", url.Values{"token": {"adm"}}, nil); w.Code != http.StatusForbidden || sessionCookie(w) != nil {
		t.Errorf("a login without the form's CSRF token: %d %v, want 403 and no session", w.Code, w.Result().Cookies())
	}
	if w := do(h, "POST", "/ui/login", url.Values{"token": {"adm"}, "csrf": {"guessed"}}, &http.Cookie{Name: loginCookie, Value: "other"}); w.Code != http.StatusForbidden {
		t.Errorf("a login whose CSRF field is not its cookie's: %d, want 403", w.Code)
	}
	w := login(h, url.Values{"token": {"adm"}}, "http://evil.example")
	if w.Code != http.StatusForbidden || sessionCookie(w) != nil || !strings.Contains(w.Body.String(), "evil.example") {
		t.Errorf("a cross-site login: %d %q, want 403 naming the site", w.Code, w.Body.String())
	}
	if w := login(h, url.Values{"token": {"adm"}}, "http://example.com"); w.Code != http.StatusSeeOther || sessionCookie(w) == nil {
		t.Errorf("a login from the dashboard's own page: %d %v", w.Code, w.Result().Cookies())
	}
	c := sessionCookie(login(h, url.Values{"token": {"adm"}}, ""))
	r := httptest.NewRequest("POST", "/ui/logout", strings.NewReader(""))
	r.Header.Set("Origin", "http://evil.example")
	r.AddCookie(c)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("a cross-site logout: %d, want 403", rec.Code)
	}
}

// Over TLS the session cookie is Secure: the browser never sends it in
// clear text.
func TestCookieSecureOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(newTestUI(t))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	hc := srv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page, err := hc.Get(srv.URL + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("the login page has no CSRF field:\n%s", b)
	}
	resp, err := hc.PostForm(srv.URL+"/ui/login", url.Values{"token": {"adm"}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			got = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || got == nil || !got.Secure || !got.HttpOnly {
		t.Fatalf("login over TLS: %d, session cookie %+v; want a Secure one", resp.StatusCode, got)
	}
}

// One token's logins end only that token's oldest sessions: 1,100
// read-only logins leave the admin's session alone.
func TestSessionsPerCaller(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { now = now.Add(time.Second); return now }
	admin := s.create("adm", api.CallerOf(api.FileAdmin))
	for range 1100 {
		s.create("ro", api.CallerOf(api.FileViewer))
	}
	r := httptest.NewRequest("GET", "/ui/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: admin.id})
	if s.get(r) == nil {
		t.Fatal("1,100 read-only logins ended the admin's session")
	}
	if n := len(s.all); n != maxPerCaller+1 {
		t.Errorf("%d sessions kept, want %d read-only and the admin's", n, maxPerCaller)
	}
}

func TestSessionExpires(t *testing.T) {
	s := newSessions()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	ss := s.create("adm", api.CallerOf(api.FileAdmin))
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
