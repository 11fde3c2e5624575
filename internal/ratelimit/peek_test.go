package ratelimit

import (
	"testing"
	"time"
)

// Peek says what Allow would, and takes nothing.
func TestLimiterPeek(t *testing.T) {
	l := New(1, 2, 1)
	for range 3 {
		if !l.Peek("a", t0) {
			t.Fatal("Peek on a fresh key refused")
		}
	}
	l.Allow("a", t0)
	if !l.Peek("a", t0) {
		t.Error("one token left, Peek refused")
	}
	l.Allow("a", t0)
	if l.Peek("a", t0) || l.Allow("a", t0) {
		t.Error("an empty bucket: Peek or Allow passed")
	}
	if !l.Peek("a", t0.Add(time.Second)) || !l.Allow("a", t0.Add(time.Second)) {
		t.Error("a refilled token: Peek or Allow refused")
	}
	l.Allow("b", t0) // no room: the shared bucket
	l.Allow("c", t0)
	if l.Peek("d", t0) {
		t.Error("an untracked key with the shared bucket empty: Peek passed")
	}
}
