package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// With directory login the login page has a user name and password form
// beside the token's; a right password makes a session holding the
// token the API's login gave (never sent to the browser), and the header
// names the person and role; each refusal is said plainly on the login
// page with the API's status; the password is in no log and no page.
func TestDirectoryLogin(t *testing.T) {
	ru := newRoleUI(t, true)
	page := do(ru.h, "GET", "/ui/login", nil, nil).Body.String()
	has(t, page, "the login page", true, `id="directory-form"`, `name="user"`, `name="password"`, `id="token"`)

	w := login(ru.h, url.Values{"user": {"olga"}, "password": {"s3cret"}, "next": {"/ui/systems/tk1"}}, "")
	c := sessionCookie(w)
	if w.Code != http.StatusSeeOther || c == nil || w.Header().Get("Location") != "/ui/systems/tk1" {
		t.Fatalf("olga's sign-in: %d %s %v\n%s", w.Code, w.Header().Get("Location"), w.Result().Cookies(), w.Body.String())
	}
	host := ru.get(t, c, "/ui/systems/tk1")
	has(t, host, "olga's host page", true, "olga · operator", "action=reinstall")
	has(t, host, "olga's host page", false, `"op"`, `id="edit-template"`)

	for _, tc := range []struct {
		user, password string
		status         int
		says           string
	}{
		{"olga", "wrong-pw-1", http.StatusUnauthorized, "Wrong user name or password."},
		{"vera", "s3cret", http.StatusForbidden, "Signed in as vera, but with no role on this appliance"},
		{"down", "s3cret", http.StatusServiceUnavailable, "The directory cannot be reached: directory ldaps://127.0.0.1:1: connection refused"},
		{"many", "s3cret", http.StatusTooManyRequests, "Too many failed sign-ins: too many failed logins"},
	} {
		w := login(ru.h, url.Values{"user": {tc.user}, "password": {tc.password}}, "")
		body := w.Body.String()
		if w.Code != tc.status || sessionCookie(w) != nil || !strings.Contains(body, tc.says) {
			t.Errorf("%s's sign-in: %d %v, want %d and %q\n%s", tc.user, w.Code, w.Result().Cookies(), tc.status, tc.says, body)
		}
		has(t, body, tc.user+"'s refused sign-in", true, `value="`+tc.user+`"`, `name="csrf" value="`)
		has(t, body, tc.user+"'s refused sign-in", false, tc.password)
	}
	if strings.Contains(ru.log.String(), "s3cret") || strings.Contains(ru.log.String(), "wrong-pw-1") {
		t.Errorf("a password is in the log:\n%s", ru.log.String())
	}
	if !strings.Contains(ru.log.String(), "user=down") {
		t.Errorf("the refusals are not logged:\n%s", ru.log.String())
	}
	if w := do(ru.h, "POST", "/ui/login", url.Values{"user": {"olga"}, "password": {"s3cret"}}, nil); w.Code != http.StatusForbidden || sessionCookie(w) != nil {
		t.Errorf("a directory sign-in without the form's CSRF token: %d, want 403", w.Code)
	}
	if w := login(ru.h, url.Values{"user": {"olga"}, "password": {"s3cret"}}, "http://evil.example"); w.Code != http.StatusForbidden || sessionCookie(w) != nil {
		t.Errorf("a cross-site directory sign-in: %d, want 403", w.Code)
	}
}

// Without directory login the page has only the token form.
func TestNoDirectoryLogin(t *testing.T) {
	ru := newRoleUI(t, false)
	page := do(ru.h, "GET", "/ui/login", nil, nil).Body.String()
	has(t, page, "the login page", false, `id="directory-form"`, `name="user"`)
	has(t, page, "the login page", true, `id="token"`)
}

// A session whose token the API stops accepting (a directory login's
// expired, a revoked one) ends: the page says so, and the next one is the
// login form.
func TestRevokedTokenEndsSession(t *testing.T) {
	ru := newRoleUI(t, false)
	olga, _ := ru.session(t, "op")
	ru.revoke("op")
	w := do(ru.h, "GET", "/ui/systems/tk1", nil, olga)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "sign in again") {
		t.Errorf("a page with a revoked token: %d\n%s", w.Code, w.Body.String())
	}
	if w := do(ru.h, "GET", "/ui/", nil, olga); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/ui/login") {
		t.Errorf("the next page: %d %s, want the login form", w.Code, w.Header().Get("Location"))
	}
}
