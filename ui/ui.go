package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the dashboard serves from.
type Config struct {
	// API is the appliance's API handler (api.Handler): every page and
	// action is a request to it, made with the session's token.
	API http.Handler
	// Auth checks a token given in the login form, as the API does.
	Auth func(token string) (access.Principal, error)
	Log  *slog.Logger
	// Hosts accepts the names the dashboard answers to, as the API's
	// (api.CheckHost); nil accepts every host.
	Hosts func(host string) bool
	// TLS says the dashboard is served over TLS, by a listener that hides
	// the TLS connection from net/http (Request.TLS is nil): its cookies
	// are then Secure, and forms come from https:// pages.
	TLS bool
	// DirectoryLogin shows the login page's form for a directory user's
	// name and password (the API's POST /api/v1/login).
	DirectoryLogin bool
}

// overTLS reports whether r came over TLS.
func (u *ui) overTLS(r *http.Request) bool { return u.TLS || r.TLS != nil }

type ui struct {
	Config
	sessions *sessions
	pages    map[string]*template.Template
	now      func() time.Time
}

// Handler serves the dashboard under /ui/.
func Handler(cfg Config) http.Handler {
	u := &ui{Config: cfg, sessions: newSessions(), now: time.Now, pages: parsePages()}
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /ui/login", u.loginPage)
	mux.HandleFunc("POST /ui/login", u.login)
	mux.HandleFunc("POST /ui/logout", u.authed(u.logout))
	mux.HandleFunc("GET /ui/{$}", u.authed(u.fleetPage))
	mux.HandleFunc("GET /ui/rows", u.authed(u.fleetRows))
	mux.HandleFunc("GET /ui/systems/{name}", u.authed(u.hostPage))
	mux.HandleFunc("GET /ui/systems/{name}/live", u.authed(u.hostLive))
	mux.HandleFunc("GET /ui/systems/{name}/confirm", u.authed(u.confirmPage))
	mux.HandleFunc("POST /ui/systems/{name}/action", u.authed(u.action))
	mux.HandleFunc("GET /ui/stream", u.authed(u.stream))
	mux.HandleFunc("GET /ui/systems/{name}/console/stream", u.authed(u.consoleStream))
	mux.HandleFunc("GET /ui/systems/{name}/console/state", u.authed(u.consoleState))
	mux.HandleFunc("GET /ui/discovered", u.authed(u.discoveredPage))
	mux.HandleFunc("GET /ui/discovered/rows", u.authed(u.discoveredRows))
	mux.HandleFunc("GET /ui/discovered/{key}", u.authed(u.machinePage))
	mux.HandleFunc("POST /ui/discovered/{key}/accept", u.authed(u.accept))
	mux.HandleFunc("GET /ui/discovered/{key}/console/stream", u.authed(u.machineConsoleStream))
	mux.HandleFunc("GET /ui/discovered/{key}/console/state", u.authed(u.machineConsoleState))
	mux.HandleFunc("GET /ui/templates", u.authed(u.templatesPage))
	mux.HandleFunc("GET /ui/templates/{name}", u.authed(u.templatePage))
	mux.HandleFunc("POST /ui/templates/{name}", limitBody(maxTemplateForm, u.authed(u.editTemplate)))
	mux.HandleFunc("/ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusSeeOther) })
	return api.CheckHost(cfg.Hosts, secured(mux))
}

// secured adds the headers every page carries: nothing loads from
// outside the appliance, no page is framed or cached.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, ss *session)

// authed runs h with the request's session, or sends the browser to the
// login form (a fragment or stream request gets a 401 instead).
func (u *ui) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := u.sessions.get(r)
		if ss == nil {
			if r.Method == http.MethodGet && !isFragment(r.URL.Path) {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && !u.sameSite(w, r) {
			return
		}
		if r.Method == http.MethodPost && !ss.checkCSRF(r) {
			http.Error(w, "refused: the form lacks this session's CSRF token (reload the page)", http.StatusForbidden)
			return
		}
		h(w, r, ss)
	}
}

// isFragment reports whether path is a part of a page or a stream that a
// script asks for: without a session it gets 401, not the login form.
func isFragment(path string) bool {
	return strings.HasSuffix(path, "/live") || strings.HasSuffix(path, "/console/stream") || strings.HasSuffix(path, "/console/state") ||
		path == "/ui/rows" || path == "/ui/discovered/rows" || path == "/ui/stream"
}

// sameSite refuses, with 403, a POST another site's page sent (Origin or
// Referer); it reports whether the request may go on.
func (u *ui) sameSite(w http.ResponseWriter, r *http.Request) bool {
	ok, from := sameOrigin(r, u.overTLS(r))
	if !ok {
		if u.Log != nil {
			u.Log.Warn("ui: a cross-site POST refused", "path", r.URL.Path, "origin", from, "remote", r.RemoteAddr)
		}
		http.Error(w, fmt.Sprintf("refused: a form sent from %q to %s (cross-site request)", from, r.Host), http.StatusForbidden)
	}
	return ok
}

// apiError is an API answer other than 2xx, with the API's message.
type apiError struct {
	Status int
	Msg    string
}

func (e *apiError) Error() string { return e.Msg }

// recorder is the ResponseWriter of an in-process API request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// call makes an API request as the session's token, from the browser's
// address (so history records both), and decodes a JSON answer into out
// (a string pointer gets the body as text).
// A token the API no longer accepts (expired, revoked) ends the session.
func (u *ui) call(r *http.Request, ss *session, method, path string, body any, out any) error {
	err := u.request(r, ss.token, method, path, body, out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		u.sessions.end(ss)
	}
	return err
}

// request is call with token ("": none, for the API's public routes).
func (u *ui) request(r *http.Request, token, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host // the API checks it as the dashboard did
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}}
	u.API.ServeHTTP(rec, req)
	if rec.status/100 != 2 {
		var e api.ErrorBody
		if json.Unmarshal(rec.body.Bytes(), &e) == nil && e.Error != "" {
			msg := e.Error
			if len(e.Errors) > 0 {
				msg += ": " + strings.Join(e.Errors, "; ")
			}
			return &apiError{rec.status, msg}
		}
		return &apiError{rec.status, strings.TrimSpace(rec.body.String())}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *string:
		*o = rec.body.String()
		return nil
	default:
		return json.Unmarshal(rec.body.Bytes(), out)
	}
}

func (u *ui) render(w http.ResponseWriter, page string, data any) {
	u.renderStatus(w, http.StatusOK, page, data)
}

// renderStatus answers the page with status.
func (u *ui) renderStatus(w http.ResponseWriter, status int, page string, data any) {
	var b bytes.Buffer
	if err := u.pages[page].ExecuteTemplate(&b, page, data); err != nil {
		if u.Log != nil {
			u.Log.Error("ui: render", "page", page, "err", err)
		}
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// fail shows an API error as the page's answer, with the API's status.
func (u *ui) fail(w http.ResponseWriter, err error) {
	status := http.StatusBadGateway
	var ae *apiError
	if errors.As(err, &ae) {
		status = ae.Status
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, err.Error())
	if status == http.StatusUnauthorized { // the session ended (call)
		fmt.Fprintln(w, "The appliance no longer accepts this session's token (it expired or was revoked): sign in again at /ui/login.")
	}
}
