package console

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait before opening a session again: min, doubling at
// each failure up to max, with jitter (a random wait between half and
// all of it, so that many sessions a BMC outage dropped together do not
// come back together).
type backoff struct {
	min, max time.Duration
	n        int // failures since the last reset
}

func (b *backoff) next() time.Duration {
	d := b.min
	for i := 0; i < b.n && d < b.max; i++ {
		d *= 2
	}
	b.n++
	return jitter(min(d, b.max))
}

func (b *backoff) reset() { b.n = 0 }

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
