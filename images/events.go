package images

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// BootEvent is one HTTP boot request as the appliance puts it on a
// system's timeline. It is reported once the response is done.
type BootEvent struct {
	Time     time.Time        // when the request arrived
	Duration time.Duration    // until the response was done
	Host     string           // system name; empty when no system matched
	MAC      net.HardwareAddr // from /boot/<mac>.ipxe, else the system's; nil when unknown
	Kind     string           // KindScript, KindSums or the file's role (KindKernel...); empty for an unknown file
	Method   string           // GET or HEAD
	Path     string           // the request's URL path
	Client   netip.Addr       // the client's IP address
	Status   int              // HTTP status sent
	Bytes    int64            // body bytes sent
	// Err says why a request failed (see the Err* variables), or that the
	// client went away mid-body; nil otherwise.
	Err error
}

// EventQueue is a bounded buffer between the boot handler and a consumer
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

// Lost is the number of events dropped so far.
func (q *EventQueue) Lost() uint64 { return q.lost.Load() }
