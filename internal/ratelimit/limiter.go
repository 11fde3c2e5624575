// Package ratelimit is a token bucket per key (a MAC, a client address)
// with bounded memory, for the packet paths of DHCP and DNS.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter is a token bucket per key with bounded memory: at most
// max buckets. A bucket that has refilled carries no information, so the
// sweep forgets it. When every bucket is busy (a flood of made-up keys),
// the keys without one share a single overflow bucket: the flood is
// limited as one client would be, and the tracked clients keep theirs.
type Limiter struct {
	mu        sync.Mutex
	rate      float64 // tokens per second
	burst     float64
	max       int
	buckets   map[string]*bucket
	overflow  bucket // shared by the keys that found no room
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter of rate tokens a second and burst tokens per key,
// tracking at most max keys.
func New(rate float64, burst, max int) *Limiter {
	return &Limiter{rate: rate, burst: float64(burst), max: max, buckets: make(map[string]*bucket),
		overflow: bucket{tokens: float64(burst)}}
}

// Allow takes a token from key's bucket at now.
func (l *Limiter) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	switch {
	case ok:
	case len(l.buckets) >= l.max && !l.sweep(now):
		b = &l.overflow
		if b.last.IsZero() {
			b.last = now
		}
	default:
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets refilled buckets, at most once per refill period, and
// reports whether there is room for a new one.
func (l *Limiter) sweep(now time.Time) bool {
	refill := time.Duration(l.burst / l.rate * float64(time.Second))
	if now.Sub(l.lastSweep) >= refill {
		l.lastSweep = now
		for k, b := range l.buckets {
			if now.Sub(b.last) >= refill {
				delete(l.buckets, k)
			}
		}
	}
	return len(l.buckets) < l.max
}

// Size is the number of tracked keys.
func (l *Limiter) Size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
