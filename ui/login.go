package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/provision/provision/api"
)

// loginData is the login page: the token form, and the directory's form
// when the appliance has directory login.
type loginData struct {
	Next, CSRF string
	TokenError bool   // the token given was none of the appliance's
	Directory  bool   // show the directory's form
	User       string // the user name typed, after a refusal
	DirError   string // why the directory sign-in was refused
}

// loginPage shows the login forms.
func (u *ui) loginPage(w http.ResponseWriter, r *http.Request) {
	u.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next")), TokenError: r.URL.Query().Get("error") != ""})
}

// renderLogin shows the login page with a fresh CSRF token in its forms
// and in a cookie (loginCookie).
func (u *ui) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.CSRF, d.Directory = randomHex(32), u.DirectoryLogin
	setLoginCookie(w, u.overTLS(r), d.CSRF, int(time.Hour/time.Second))
	u.renderStatus(w, status, "login", d)
}

// login takes a token, or a directory user's name and password, once:
// the token (the directory's: the one the API's login gave) is kept in
// the session, never in the browser.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !u.sameSite(w, r) {
		return
	}
	if !checkLoginCSRF(r) {
		http.Error(w, "refused: the login form lacks its CSRF token (reload the login page)", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if r.PostForm.Has("user") {
		u.directoryLogin(w, r, next)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	p, err := u.Auth(token)
	if token == "" || err != nil {
		if u.Log != nil {
			u.Log.Warn("ui: a login with a wrong token", "remote", r.RemoteAddr)
		}
		http.Redirect(w, r, "/ui/login?error=1&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	u.startSession(w, r, token, api.CallerOf(p), next)
}

// startSession keeps token in a new session, gives the browser its id,
// and sends it on to next.
func (u *ui) startSession(w http.ResponseWriter, r *http.Request, token string, c api.Caller, next string) {
	setLoginCookie(w, u.overTLS(r), "", -1)
	ss := u.sessions.create(token, c)
	setCookie(w, u.overTLS(r), ss.id, int(sessionTTL/time.Second))
	if u.Log != nil {
		u.Log.Info("ui: logged in", "who", c.Name, "role", c.Role, "remote", r.RemoteAddr)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *ui) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	u.sessions.end(ss)
	setCookie(w, u.overTLS(r), "", -1)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login inside the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

// loginResult is what the API's POST /api/v1/login answers.
type loginResult struct {
	Token string `json:"token"`
}

// directoryLogin signs a directory user in through the API's login (from
// the browser's address, which the API's rate limit counts), and keeps
// the token it gives in a session; a refusal shows the login page again
// with the reason. The password goes to the API only: it is in no log.
func (u *ui) directoryLogin(w http.ResponseWriter, r *http.Request, next string) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	var res loginResult
	err := u.request(r, "", "POST", "/api/v1/login", map[string]string{"user": user, "password": r.PostFormValue("password")}, &res)
	if err == nil {
		var c api.Caller
		if err = u.request(r, res.Token, "GET", "/api/v1/whoami", nil, &c); err == nil {
			u.startSession(w, r, res.Token, c, next)
			return
		}
	}
	status, msg := signInRefused(user, err)
	if u.Log != nil {
		u.Log.Warn("ui: a directory sign-in refused", "user", user, "status", status, "err", err, "remote", r.RemoteAddr)
	}
	u.renderLogin(w, r, status, loginData{Next: next, User: user, DirError: msg})
}

// signInRefused is the status and the plain words of the API's refusal
// of user's sign-in.
func signInRefused(user string, err error) (int, string) {
	var ae *apiError
	if !errors.As(err, &ae) {
		return http.StatusBadGateway, "The sign-in failed: " + err.Error()
	}
	switch ae.Status {
	case http.StatusUnauthorized:
		return ae.Status, "Wrong user name or password."
	case http.StatusForbidden:
		return ae.Status, "Signed in as " + user + ", but with no role on this appliance: none of " + user + "'s directory groups is given one."
	case http.StatusServiceUnavailable:
		return ae.Status, "The directory cannot be reached: " + ae.Msg
	case http.StatusTooManyRequests:
		return ae.Status, "Too many failed sign-ins: " + ae.Msg
	case http.StatusNotFound:
		return ae.Status, "This appliance has no directory login: sign in with an API token."
	}
	return ae.Status, "The sign-in failed: " + ae.Msg
}
