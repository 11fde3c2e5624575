package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// failingEvents is an EventStore whose writes fail.
type failingEvents struct{}

func (failingEvents) AppendEvents(context.Context, []Event, int) error {
	return errors.New("disk I/O error")
}
func (failingEvents) Events(context.Context, string, int) ([]Event, error) { return nil, nil }

// A batch that cannot be written is counted and reported, not dropped in
// silence.
func TestEventLogReportsFailedWrites(t *testing.T) {
	l := NewEventLog(failingEvents{}, 10)
	var mu sync.Mutex
	var lost int
	var got error
	l.OnWriteError(func(err error, n int) {
		mu.Lock()
		defer mu.Unlock()
		lost += n
		got = err
	})
	for range 3 {
		l.Record(Event{System: "web01", Kind: "dhcp"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for l.Dropped() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if lost != 3 || got == nil || got.Error() != "disk I/O error" || l.Dropped() != 3 {
		t.Errorf("lost %d, err %v, dropped %d; want 3 reported with the store's error", lost, got, l.Dropped())
	}
}
