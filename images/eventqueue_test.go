package images

import "sync/atomic"

// EventQueue (tests only) is a bounded buffer between the boot handler and a consumer
// that may be slow (a disk write): Report never blocks, and drops the event
// when the buffer is full, counting it in Lost. Use it as
// BootConfig{OnEvent: q.Report} and read q.Events().
type EventQueue struct {
	ch   chan BootEvent
	lost atomic.Uint64
}

// NewEventQueue returns a queue that holds up to size events (at least 1).
func NewEventQueue(size int) *EventQueue {
	return &EventQueue{ch: make(chan BootEvent, max(size, 1))}
}

// Report queues e, or drops it when the queue is full.
func (q *EventQueue) Report(e BootEvent) {
	select {
	case q.ch <- e:
	default:
		q.lost.Add(1)
	}
}

// Events is the channel to read the queued events from.
func (q *EventQueue) Events() <-chan BootEvent { return q.ch }
