package registry

import (
	"context"
	"sync"
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
	// Appliance is the name of the appliance that served the step (serve
	// --name), which tells the two of a master pair apart; EventLog fills
	// it in.
	Appliance string `json:"appliance,omitempty"`
	// SystemID is the system's identity (System.ID), which events are
	// kept by: a rename keeps them, a new system of an old name starts
	// with none. Record fills it from the name (SetIdentity).
	SystemID string `json:"-"`
}

// EventStore persists events, keeping at most keep per system identity.
type EventStore interface {
	AppendEvents(ctx context.Context, evs []Event, keep int) error
	// Events returns the events of the system with identity id (every
	// system's when id is ""), oldest first.
	Events(ctx context.Context, id string, limit int) ([]Event, error)
}

// EventLog takes events from the protocol servers without ever blocking
// them (see batcher) and keeps the last keep events of each system.
type EventLog struct {
	store EventStore
	b     *batcher[Event]

	mu     sync.RWMutex
	subs   map[chan Event]struct{} // live followers (provision events --follow)
	latest map[string]Latest       // by system identity: LoadLatest, then Record

	identity  atomic.Pointer[func(name string) string] // SetIdentity
	appliance string                                   // SetAppliance
}

// SetAppliance names the appliance in every event recorded from now on;
// call it before the servers start.
func (l *EventLog) SetAppliance(name string) { l.appliance = name }

// SetIdentity tells the log how to find a system's identity from its name
// (Snapshot.SystemID on the current snapshot); until it is set, events
// are kept under the name itself.
func (l *EventLog) SetIdentity(f func(name string) string) { l.identity.Store(&f) }

func (l *EventLog) idOf(name string) string {
	if f := l.identity.Load(); f != nil {
		if id := (*f)(name); id != "" {
			return id
		}
	}
	return name
}

// NewEventLog keeps the last keep events of each system.
func NewEventLog(store EventStore, keep int) *EventLog {
	write := func(ctx context.Context, evs []Event) error { return store.AppendEvents(ctx, evs, keep) }
	return &EventLog{store: store, b: newBatcher(16384, write), subs: map[chan Event]struct{}{}, latest: map[string]Latest{}}
}

// Record queues an event and hands it to every follower; it never blocks
// (a follower too slow to keep up misses events).
func (l *EventLog) Record(e Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.SystemID == "" && e.System != "" {
		e.SystemID = l.idOf(e.System)
	}
	if e.Appliance == "" {
		e.Appliance = l.appliance
	}
	l.b.record(e)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.noteLatest(e)
	for ch := range l.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Follow returns a channel of every event recorded from now on, and the
// function that stops it.
func (l *EventLog) Follow() (<-chan Event, func()) {
	ch := make(chan Event, 1024)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// OnWriteError makes Run call f for every batch of events that could not
// be written (they are lost, and counted in Dropped), so that a failing
// database is logged and not only counted.
func (l *EventLog) OnWriteError(f func(err error, lost int)) { l.b.setOnError(f) }

// Dropped is how many events were lost to a full buffer or a failed write.
func (l *EventLog) Dropped() int64 { return l.b.dropped.Load() }

// Run writes queued events until ctx ends, then writes what is left.
func (l *EventLog) Run(ctx context.Context) error { return l.b.run(ctx) }

// Events returns a system's recent events (every system's when system is
// ""), oldest first, including every event recorded before the call: those of its identity, under its current name even
// when they were recorded before a rename.
func (l *EventLog) Events(ctx context.Context, system string, limit int) ([]Event, error) {
	if err := l.b.sync(ctx); err != nil {
		return nil, err
	}
	if system == "" {
		return l.store.Events(ctx, "", limit)
	}
	evs, err := l.store.Events(ctx, l.idOf(system), limit)
	for i := range evs {
		evs[i].System = system
	}
	return evs, err
}

// LastBoot returns the events of the most recent network boot: from the
// DHCP exchange before the last boot-file fetch (script or TFTP) on, so
// that the booted OS's own DHCP renewals stay in the timeline instead of
// starting a new one. Without a fetch it starts at the last DHCP event.
func LastBoot(evs []Event) []Event {
	fetch := len(evs)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == "script" || evs[i].Kind == "tftp" {
			fetch = i
			break
		}
	}
	for i := min(fetch, len(evs)) - 1; i >= 0; i-- {
		if evs[i].Kind != "dhcp" {
			continue
		}
		for i > 0 && evs[i-1].Kind == "dhcp" && evs[i].At.Sub(evs[i-1].At) < time.Minute {
			i-- // a DISCOVER/REQUEST pair or a retry belongs to the same boot
		}
		return evs[i:]
	}
	return evs
}

// Timeline returns what `system status` shows: the last network boot, or,
// when the events hold a build (an installer fetched its template), the
// boot that ran the installer and everything after it.
func Timeline(evs []Event) []Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == "template" {
			start := len(evs[:i+1]) - len(LastBoot(evs[:i+1]))
			return evs[start:]
		}
	}
	return LastBoot(evs)
}
