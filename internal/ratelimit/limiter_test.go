package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestLimiterBucket(t *testing.T) {
	l := New(10, 3, 100)
	var got []bool
	for range 5 {
		got = append(got, l.Allow("a", t0))
	}
	want := []bool{true, true, true, false, false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("burst: %v, want %v", got, want)
	}
	if !l.Allow("b", t0) {
		t.Error("another key shares the bucket")
	}
	if !l.Allow("a", t0.Add(100*time.Millisecond)) || l.Allow("a", t0.Add(100*time.Millisecond)) {
		t.Error("after 100ms at 10/s exactly one token should be back")
	}
	if l.Allow("a", t0.Add(-time.Hour)) {
		t.Error("a clock going backwards refilled the bucket")
	}
}

func TestLimiterOncePerMinute(t *testing.T) {
	l := New(1.0/60, 1, 100)
	if !l.Allow("m", t0) || l.Allow("m", t0.Add(59*time.Second)) || !l.Allow("m", t0.Add(61*time.Second)) {
		t.Error("want one pass per minute")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	l := New(10, 2, 50)
	passed := 0
	for i := range 200 {
		if l.Allow(fmt.Sprint(i), t0) {
			passed++
		}
	}
	if n := l.Size(); n > 50 {
		t.Fatalf("%d buckets tracked, bound is 50", n)
	}
	// 50 tracked keys pass once each; the 150 beyond the bound share one
	// bucket of burst 2, instead of all passing (fail open).
	if passed != 52 {
		t.Errorf("%d of 200 new keys passed at once, want 50 tracked + 2 from the shared bucket", passed)
	}
	if l.Allow("new", t0) {
		t.Error("a key beyond the bound passed with the shared bucket empty")
	}
	if !l.Allow("0", t0) {
		t.Error("a tracked key lost its own bucket to the flood")
	}
	if !l.Allow("new", t0.Add(100*time.Millisecond)) {
		t.Error("the shared bucket does not refill")
	}
	// Once the buckets have refilled, the sweep makes room again.
	l.Allow("later", t0.Add(time.Second))
	if n := l.Size(); n != 1 {
		t.Errorf("after the sweep %d buckets, want 1", n)
	}
}
