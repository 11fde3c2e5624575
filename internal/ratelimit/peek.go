package ratelimit

import "time"

// Peek reports whether Allow(key, now) would pass, taking no token: a
// caller that counts only failures (sign-ins) asks Peek before trying
// and Allow after a failure.
func (l *Limiter) Peek(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	switch {
	case ok:
	case len(l.buckets) >= l.max:
		b = &l.overflow
	default:
		return true // a new key starts with a full bucket
	}
	tokens := b.tokens
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		tokens = min(l.burst, tokens+elapsed*l.rate)
	}
	return tokens >= 1
}
