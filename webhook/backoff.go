package webhook

import (
	"math/rand/v2"
	"time"
)

// The retry schedule: the wait after the nth failed try is drawn
// uniformly (full jitter) from [MinBackoff, min(MaxBackoff,
// MinBackoff·2^(n-1))]; a delivery first made MaxAge ago is given up
// (dead) at its next failure.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Hour
	MaxAge     = 24 * time.Hour
)

// Backoff is the wait after the attempts-th failed try, r drawing a
// number from [0, 1) (rand.Float64).
func Backoff(attempts int, min, max time.Duration, r func() float64) time.Duration {
	ceil := max
	if attempts < 1 {
		attempts = 1
	}
	if shift := attempts - 1; shift < 40 && min<<shift < max {
		ceil = min << shift
	}
	return min + time.Duration(r()*float64(ceil-min))
}

// jitter is the default draw.
func jitter() float64 { return rand.Float64() }
