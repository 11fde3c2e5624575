package registry

import (
	"context"
	"sync/atomic"
	"time"
)

// Event is one step of a machine's boot, reported by a protocol server:
// a DHCP ack, a TFTP transfer, an HTTP fetch of a script, kernel, initrd
// or image.
type Event struct {
	At     time.Time `json:"at"`
	System string    `json:"system"`
	MAC    string    `json:"mac,omitempty"`
	IP     string    `json:"ip,omitempty"`
	Kind   string    `json:"kind"`             // dhcp, tftp, script, kernel, initrd, rootfs, ...
	Detail string    `json:"detail,omitempty"` // file name, bytes, status
}

// EventStore persists events, keeping at most keep per system.
type EventStore interface {
	AppendEvents(ctx context.Context, evs []Event, keep int) error
	Events(ctx context.Context, system string, limit int) ([]Event, error)
}

// EventLog takes events from the protocol servers without ever blocking
// them: Record puts the event in a buffered channel (dropping it, counted,
// when the buffer is full) and Run writes them in batches.
type EventLog struct {
	store   EventStore
	keep    int
	ch      chan Event
	dropped atomic.Int64
}

// NewEventLog keeps the last keep events of each system.
func NewEventLog(store EventStore, keep int) *EventLog {
	return &EventLog{store: store, keep: keep, ch: make(chan Event, 4096)}
}

// Record queues an event; it never blocks.
func (l *EventLog) Record(e Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

// Dropped is how many events were lost to a full buffer.
func (l *EventLog) Dropped() int64 { return l.dropped.Load() }

// Run writes queued events until ctx ends, then writes what is left.
func (l *EventLog) Run(ctx context.Context) error {
	for {
		select {
		case e := <-l.ch:
			l.flush(context.WithoutCancel(ctx), e)
		case <-ctx.Done():
			for {
				select {
				case e := <-l.ch:
					l.flush(context.WithoutCancel(ctx), e)
				default:
					return nil
				}
			}
		}
	}
}

// flush writes e and whatever else is queued, in one transaction.
func (l *EventLog) flush(ctx context.Context, e Event) {
	batch := []Event{e}
	for len(batch) < 512 {
		select {
		case e := <-l.ch:
			batch = append(batch, e)
			continue
		default:
		}
		break
	}
	if err := l.store.AppendEvents(ctx, batch, l.keep); err != nil {
		l.dropped.Add(int64(len(batch)))
	}
}

// Events returns a system's recent events, oldest first.
func (l *EventLog) Events(ctx context.Context, system string, limit int) ([]Event, error) {
	return l.store.Events(ctx, system, limit)
}

// LastBoot returns the events of the most recent boot: from the last DHCP
// event on (or all of them if there is none).
func LastBoot(evs []Event) []Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == "dhcp" {
			j := i
			for j > 0 && evs[j-1].Kind == "dhcp" && evs[i].At.Sub(evs[j-1].At) < time.Minute {
				j-- // a DISCOVER/REQUEST pair or a retry belongs to the same boot
			}
			return evs[j:]
		}
	}
	return evs
}
