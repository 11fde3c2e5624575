package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/provision/provision/api"
)

// cookieName is the session cookie; its value is the session id only.
const cookieName = "provision_session"

// loginCookie holds the login form's CSRF token (double submit): the form
// carries the same value in its csrf field, which another site cannot
// read, and a cross-site POST does not carry the cookie (SameSite).
const loginCookie = "provision_login"

// sessionTTL is how long a session lasts after its last request.
const sessionTTL = 12 * time.Hour

// maxSessions bounds the sessions kept: the oldest goes first.
const maxSessions = 1024

// maxPerCaller bounds the sessions of one token: a caller's 17th login
// ends its own oldest session, never another caller's.
const maxPerCaller = 16

type session struct {
	id, token string
	CSRF      string     // in every form that changes something
	Caller    api.Caller // who the token belongs to: role, scopes, rights (whoami)
	seen      time.Time
}

type sessions struct {
	mu  sync.Mutex
	all map[string]*session
	now func() time.Time
}

func newSessions() *sessions {
	return &sessions{all: map[string]*session{}, now: time.Now}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// create starts a session for a token the API accepted: the oldest
// session of the same caller goes when it has maxPerCaller, the oldest
// of all only when maxSessions are kept.
func (s *sessions) create(token string, c api.Caller) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	mine := 0
	for _, v := range s.all {
		if v.Caller.Name == c.Name {
			mine++
		}
	}
	if mine >= maxPerCaller {
		s.evictOldest(func(v *session) bool { return v.Caller.Name == c.Name })
	} else if len(s.all) >= maxSessions {
		s.evictOldest(func(*session) bool { return true })
	}
	ss := &session{id: randomHex(32), token: token, CSRF: randomHex(32), Caller: c, seen: now}
	s.all[ss.id] = ss
	return ss
}

// evictOldest ends the least recently used session that which accepts.
func (s *sessions) evictOldest(which func(*session) bool) {
	var oldest *session
	for _, v := range s.all {
		if which(v) && (oldest == nil || v.seen.Before(oldest.seen)) {
			oldest = v
		}
	}
	if oldest != nil {
		delete(s.all, oldest.id)
	}
}

// get returns the session of the request's cookie, if it is live.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.all[c.Value]
	if ss == nil {
		return nil
	}
	now := s.now()
	if now.Sub(ss.seen) > sessionTTL {
		delete(s.all, ss.id)
		return nil
	}
	ss.seen = now
	return ss
}

func (s *sessions) end(ss *session) {
	s.mu.Lock()
	delete(s.all, ss.id)
	s.mu.Unlock()
}

// checkCSRF reports whether the form of a POST carries the session's token.
func (ss *session) checkCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.CSRF)) == 1
}

// sameOrigin reports whether a POST comes from the dashboard's own pages:
// its Origin, else its Referer, names the host it was sent to. A request
// with neither (not a browser's) passes; the CSRF token still has to match.
func sameOrigin(r *http.Request, overTLS bool) (bool, string) {
	scheme := "http"
	if overTLS {
		scheme = "https"
	}
	from := r.Header.Get("Origin")
	if from == "" || from == "null" && r.Header.Get("Referer") != "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true, ""
	}
	u, err := url.Parse(from)
	if err != nil {
		return false, "(an address that does not parse)"
	}
	if u.Scheme != scheme || !strings.EqualFold(u.Host, r.Host) {
		return false, u.Scheme + "://" + u.Host
	}
	return true, ""
}

// checkLoginCSRF reports whether the login form carries the token of the
// loginCookie its page set.
func checkLoginCSRF(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	got := r.PostFormValue("csrf")
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// setLoginCookie gives the login page's browser its CSRF token.
func setLoginCookie(w http.ResponseWriter, overTLS bool, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/ui/login", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS})
}

// setCookie gives the browser the session id: not readable by scripts,
// never sent by another site's request, only over TLS when it came so.
func setCookie(w http.ResponseWriter, overTLS bool, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/ui/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS})
}
