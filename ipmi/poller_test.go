package ipmi

import (
	"context"
	"sync"
	"testing"
	"time"
)

// stuckAndLive answers "on" for every BMC but "gone1", whose question
// stays open until the poller gives it up.
type stuckAndLive struct {
	mu    sync.Mutex
	asked map[string]int
}

func (f *stuckAndLive) PowerState(ctx context.Context, b BMC) (string, error) {
	f.mu.Lock()
	f.asked[b.System]++
	f.mu.Unlock()
	if b.System == "gone1" {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return On, nil
}

// A BMC that does not answer neither holds up the others' readings nor
// gets asked again while its question is open, and a poller that stops
// does not report the questions it gave up as BMCs that stopped
// answering.
func TestPollerDeadBMCHoldsUpNobody(t *testing.T) {
	f := &stuckAndLive{asked: map[string]int{}}
	live := make(chan Reading, 100)
	var mu sync.Mutex
	var gone []Reading
	p := &Poller{Controller: f, Interval: 20 * time.Millisecond,
		BMCs: func() []BMC { return []BMC{{System: "gone1"}, {System: "vm1"}} },
		Report: func(r Reading) {
			if r.System == "vm1" {
				live <- r
				return
			}
			mu.Lock()
			gone = append(gone, r)
			mu.Unlock()
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for i := 0; i < 5; i++ {
		select {
		case r := <-live:
			if r.State != On || r.Err != nil {
				t.Fatalf("vm1: %+v", r)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("vm1 read %d times while gone1 hangs: the dead BMC holds it up", i)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.asked["gone1"] != 1 {
		t.Fatalf("gone1 asked %d times with its question open, want 1", f.asked["gone1"])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(gone) != 0 {
		t.Fatalf("readings of gone1 after the poller stopped: %+v", gone)
	}
}
