package registry

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// ObjToken is an API token of a user.
const ObjToken = "token"

// ErrTokenExpired: a request carried a token past its expiry.
var ErrTokenExpired = errors.New("token expired")

// tokenPrefix starts every token, so that a leaked one is recognised.
const tokenPrefix = "prv_"

var (
	tokenRE      = regexp.MustCompile(`^prv_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$`)
	tokenLabelRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// Token is an API token of a user. Only the SHA-256 of the token is
// kept: the token itself is shown once, when it is made.
type Token struct {
	ID      string `json:"id" yaml:"id"` // 12 lowercase hex characters, random
	User    string `json:"user" yaml:"user"`
	Label   string `json:"label,omitempty" yaml:"label,omitempty"`
	Hash    string `json:"-" yaml:"-"`                                 // hex SHA-256 of the whole token: never in JSON, YAML, history or export
	Created string `json:"created" yaml:"created"`                     // RFC 3339 UTC
	Expires string `json:"expires,omitempty" yaml:"expires,omitempty"` // RFC 3339 UTC; "": never
	Login   bool   `json:"login,omitempty" yaml:"login,omitempty"`     // made by a login, short-lived
}

// Expired reports whether t has expired at now.
func (t *Token) Expired(now time.Time) bool {
	if t.Expires == "" {
		return false
	}
	exp, err := time.Parse(time.RFC3339, t.Expires)
	return err != nil || !now.Before(exp) // unreadable: expired, not forever
}

// Tokens lists user's tokens ("": everyone's), by user then creation.
func (s *Snapshot) Tokens(user string) []*Token {
	var out []*Token
	for _, t := range s.tokens {
		if user == "" || t.User == user {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Token) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Created, b.Created), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// TokenFor finds the token a request carries, and its user. It reads
// only the Snapshot: it runs on every API request.
func (s *Snapshot) TokenFor(token string, now time.Time) (*Token, *User, error) {
	unknown := &Error{ErrNotFound, "unknown token"}
	m := tokenRE.FindStringSubmatch(token)
	if m == nil {
		return nil, nil, unknown
	}
	t, ok := s.tokens[m[1]]
	if !ok || !hashMatches(t.Hash, token) {
		return nil, nil, unknown
	}
	u, ok := s.users[t.User]
	if !ok {
		return nil, nil, unknown
	}
	if t.Expired(now) {
		return nil, nil, &Error{ErrTokenExpired, fmt.Sprintf("token %s of %s expired at %s", t.ID, t.User, t.Expires)}
	}
	return t, u, nil
}
