package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// openTokens is openSites with users alice and bob and a clock the test
// moves.
func openTokens(t *testing.T) (*Registry, *time.Time) {
	t.Helper()
	r := openSites(t)
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	ctx := context.Background()
	must(t, func() error { return r.AddUser(ctx, User{Name: "alice", Role: "operator"}) })
	must(t, func() error { return r.AddUser(ctx, User{Name: "bob", Role: "viewer"}) })
	return r, &clock
}

func TestTokenCreateAndLookup(t *testing.T) {
	r, clock := openTokens(t)
	ctx := context.Background()
	secret, tok, err := r.CreateToken(ctx, "alice", "laptop", time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^prv_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$`).MatchString(secret) || !strings.HasPrefix(secret, "prv_"+tok.ID+"_") {
		t.Fatalf("token %q (id %s)", secret, tok.ID)
	}
	if tok.User != "alice" || tok.Label != "laptop" || tok.Created != "2026-12-01T10:00:00Z" || tok.Expires != "" || tok.Login || tok.Hash == "" {
		t.Errorf("token: %+v", tok)
	}
	got, u, err := r.Snapshot().TokenFor(secret, clock.Add(1000*time.Hour))
	if err != nil || got.ID != tok.ID || u.Name != "alice" {
		t.Fatalf("TokenFor: %+v %+v %v", got, u, err)
	}
	if p := u.Principal(got.Label); p.By() != "alice/laptop" {
		t.Errorf("principal by %q", p.By())
	}
	// A wrong secret of a known ID, a malformed token, an unknown ID:
	// one answer, which never repeats what was sent.
	wrong := secret[:len(secret)-1] + map[bool]string{true: "A", false: "B"}[secret[len(secret)-1] != 'A']
	for _, bad := range []string{wrong, "prv_" + tok.ID, "", "prv_0123456789ab_" + strings.Repeat("x", 43), secret + "x", strings.ToUpper(secret)} {
		_, _, err := r.Snapshot().TokenFor(bad, *clock)
		if !errors.Is(err, ErrNotFound) || err.Error() != "unknown token" {
			t.Errorf("TokenFor(%q) = %v", bad, err)
		}
	}
	for _, c := range []struct{ user, label, want string }{
		{"carol", "", "user carol not found"},
		{"alice", "a b", `token label "a b"`},
		{"alice", strings.Repeat("x", 65), "token label"},
		{"alice", "past", "token for alice: it would expire at 2026-12-01T10:00:00Z, which is not in the future"},
	} {
		expires := time.Time{}
		if c.label == "past" {
			expires = *clock
		}
		if _, _, err := r.CreateToken(ctx, c.user, c.label, expires, false); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("CreateToken(%s, %q) = %v, want %q", c.user, c.label, err, c.want)
		}
	}
	if _, _, err := r.CreateToken(ctx, "alice", strings.Repeat("x", 64), time.Time{}, false); err != nil {
		t.Errorf("a 64-character label: %v", err)
	}
}

func TestTokenExpiry(t *testing.T) {
	r, clock := openTokens(t)
	ctx := context.Background()
	secret, tok, err := r.CreateToken(ctx, "bob", "", clock.Add(90*24*time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Expires != "2027-03-01T10:00:00Z" {
		t.Errorf("expires %q", tok.Expires)
	}
	if _, _, err := r.Snapshot().TokenFor(secret, clock.Add(90*24*time.Hour-time.Second)); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	_, _, err = r.Snapshot().TokenFor(secret, clock.Add(90*24*time.Hour))
	want := fmt.Sprintf("token %s of bob expired at 2027-03-01T10:00:00Z", tok.ID)
	if !errors.Is(err, ErrTokenExpired) || err.Error() != want || strings.Contains(err.Error(), secret) {
		t.Errorf("at expiry: %v, want %q", err, want)
	}
}

// Expired tokens of a user go with the next token made for them: login
// tokens do not pile up. Others' tokens and unexpired ones stay.
func TestTokenPrune(t *testing.T) {
	r, clock := openTokens(t)
	ctx := context.Background()
	var old []string
	for range 3 {
		_, tok, err := r.CreateToken(ctx, "alice", "", clock.Add(time.Hour), true)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, tok.ID)
	}
	_, keep, _ := r.CreateToken(ctx, "alice", "ci", clock.Add(48*time.Hour), false)
	_, bobs, _ := r.CreateToken(ctx, "bob", "", clock.Add(time.Hour), true)
	*clock = clock.Add(2 * time.Hour)
	_, fresh, err := r.CreateToken(ctx, "alice", "", clock.Add(time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range r.Snapshot().Tokens("") {
		ids = append(ids, tk.User+":"+tk.ID)
	}
	want := []string{"alice:" + keep.ID, "alice:" + fresh.ID, "bob:" + bobs.ID}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("tokens after the prune: %v, want %v", ids, want)
	}
	h, _ := r.History(ctx, "", 20)
	removed := 0
	for _, c := range h {
		if c.Kind == ObjToken && c.Op == "remove" {
			removed++
			if !strings.Contains(strings.Join(old, " "), c.Name) {
				t.Errorf("history removes token %s", c.Name)
			}
		}
	}
	if removed != 3 {
		t.Errorf("history has %d token removals, want 3", removed)
	}
}

func TestTokenRevoke(t *testing.T) {
	r, clock := openTokens(t)
	ctx := context.Background()
	s1, t1, _ := r.CreateToken(ctx, "alice", "a", time.Time{}, false)
	s2, _, _ := r.CreateToken(ctx, "alice", "b", time.Time{}, false)
	s3, _, _ := r.CreateToken(ctx, "bob", "", time.Time{}, false)
	got, err := r.RevokeToken(ctx, t1.ID)
	if err != nil || got.ID != t1.ID {
		t.Fatalf("RevokeToken: %+v %v", got, err)
	}
	if _, _, err := r.Snapshot().TokenFor(s1, *clock); !errors.Is(err, ErrNotFound) {
		t.Errorf("a revoked token still works: %v", err)
	}
	if _, err := r.RevokeToken(ctx, t1.ID); !errors.Is(err, ErrNotFound) || err.Error() != "token "+t1.ID+" not found" {
		t.Errorf("revoke twice: %v", err)
	}
	if n, err := r.RevokeTokens(ctx, "alice"); err != nil || n != 1 {
		t.Errorf("RevokeTokens(alice) = %d, %v", n, err)
	}
	if _, err := r.RevokeTokens(ctx, "carol"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeTokens(carol): %v", err)
	}
	if n, err := r.RevokeTokens(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("RevokeTokens(alice) again = %d, %v", n, err)
	}
	if _, _, err := r.Snapshot().TokenFor(s2, *clock); err == nil {
		t.Error("alice's token b survived revoke --user")
	}
	if _, _, err := r.Snapshot().TokenFor(s3, *clock); err != nil {
		t.Errorf("bob's token went with alice's: %v", err)
	}
	// Removing bob takes his token, in the same change, one history
	// record each.
	must(t, func() error { return r.RemoveUser(ctx, "bob") })
	if _, _, err := r.Snapshot().TokenFor(s3, *clock); err == nil || len(r.Snapshot().Tokens("")) != 0 {
		t.Error("bob's token outlived bob")
	}
	h, _ := r.History(ctx, "", 2)
	if len(h) != 2 || h[0].At != h[1].At || h[0].Kind+h[1].Kind != ObjUser+ObjToken && h[0].Kind+h[1].Kind != ObjToken+ObjUser {
		t.Errorf("history of removing bob: %+v", h)
	}
}
