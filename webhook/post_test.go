package webhook

import (
	"testing"
	"time"
)

// GitHub's documented example of X-Hub-Signature-256.
func TestSignAsGitHub(t *testing.T) {
	got := Sign("It's a Secret to Everybody", []byte("Hello, World!"))
	if want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if Verify("other", []byte("Hello, World!"), got) {
		t.Error("Verify takes another secret's signature")
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		r        float64
		want     time.Duration
	}{
		{1, 0, time.Second}, {1, 0.999, time.Second}, {2, 1, 2 * time.Second}, {3, 0.5, 2500 * time.Millisecond},
		{13, 1, time.Hour}, {100, 1, time.Hour}, {100, 0, time.Second},
	} {
		if got := Backoff(tc.attempts, MinBackoff, MaxBackoff, func() float64 { return tc.r }); got != tc.want {
			t.Errorf("Backoff(%d, r=%v) = %s, want %s", tc.attempts, tc.r, got, tc.want)
		}
	}
}
