package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/provision/provision/api"
)

// cookieName is the session cookie; its value is the session id only.
const cookieName = "provision_session"

// sessionTTL is how long a session lasts after its last request.
const sessionTTL = 12 * time.Hour

// maxSessions bounds the sessions kept: the oldest goes first.
const maxSessions = 1024

type session struct {
	id, token string
	CSRF      string     // in every form that changes something
	Caller    api.Caller // the token's name and whether it may write
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

// create starts a session for a token the API accepted.
func (s *sessions) create(token string, c api.Caller) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.all) >= maxSessions {
		var oldest *session
		for _, v := range s.all {
			if oldest == nil || v.seen.Before(oldest.seen) {
				oldest = v
			}
		}
		delete(s.all, oldest.id)
	}
	ss := &session{id: randomHex(32), token: token, CSRF: randomHex(32), Caller: c, seen: now}
	s.all[ss.id] = ss
	return ss
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

// setCookie gives the browser the session id: not readable by scripts,
// never sent by another site's request, only over TLS when it came so.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/ui/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}
