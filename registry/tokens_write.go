package registry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

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
