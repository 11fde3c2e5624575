package registry

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
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

// CreateToken makes a token for user, returned once: "prv_" + ID + "_" +
// 43 characters of base64url (32 random bytes). A zero expires: never.
// The same change drops the user's expired tokens.
func (r *Registry) CreateToken(ctx context.Context, user, label string, expires time.Time, login bool) (string, *Token, error) {
	if label != "" && !tokenLabelRE.MatchString(label) {
		return "", nil, invalidf("token label %q: use letters, digits, '.', '_' and '-' (at most 64)", label)
	}
	if !expires.IsZero() && !expires.After(r.now()) {
		return "", nil, invalidf("token for %s: it would expire at %s, which is not in the future", user, expires.UTC().Format(time.RFC3339))
	}
	secret, t, err := newAPIToken(user, label, r.now().UTC(), expires, login)
	if err != nil {
		return "", nil, err
	}
	_, err = r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		if _, ok := n.users[user]; !ok {
			return nil, notFound(ObjUser, user)
		}
		if _, taken := n.tokens[t.ID]; taken {
			return nil, conflictf("token %s already exists: try again", t.ID)
		}
		now := r.now()
		ops := n.dropTokens(user, func(old *Token) bool { return old.Expired(now) })
		n.tokens[t.ID] = t
		return append(ops, op(ObjToken, "", nil, t, t.ID, "add")), nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// RevokeToken removes a token.
func (r *Registry) RevokeToken(ctx context.Context, id string) (*Token, error) {
	var old *Token
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		var ok bool
		if old, ok = n.tokens[id]; !ok {
			return nil, notFound(ObjToken, id)
		}
		delete(n.tokens, id)
		return []Op{op(ObjToken, id, old, nil, "", "remove")}, nil
	})
	if err != nil {
		return nil, err
	}
	return old, nil
}

// RevokeTokens removes every token of user, who must exist.
func (r *Registry) RevokeTokens(ctx context.Context, user string) (int, error) {
	var count int
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		if _, ok := n.users[user]; !ok {
			return nil, notFound(ObjUser, user)
		}
		ops := n.dropTokens(user, func(*Token) bool { return true })
		count = len(ops)
		return ops, nil
	})
	return count, err
}

// dropTokens removes user's tokens for which drop is true, and returns
// their ops (by ID, so that history reads the same every time).
func (s *Snapshot) dropTokens(user string, drop func(*Token) bool) []Op {
	var ops []Op
	for _, t := range s.Tokens(user) {
		if drop(t) {
			delete(s.tokens, t.ID)
			ops = append(ops, op(ObjToken, t.ID, t, nil, "", "remove"))
		}
	}
	return ops
}

// newAPIToken makes a token's secret string and its record.
func newAPIToken(user, label string, now, expires time.Time, login bool) (string, *Token, error) {
	var b [6 + 32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("token for %s: %w", user, err)
	}
	id := hex.EncodeToString(b[:6])
	secret := tokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[6:])
	t := &Token{ID: id, User: user, Label: label, Hash: hashToken(secret), Created: now.Format(time.RFC3339), Login: login}
	if !expires.IsZero() {
		t.Expires = expires.UTC().Format(time.RFC3339)
	}
	return secret, t, nil
}
