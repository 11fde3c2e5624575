package tftp

import (
	"container/list"
	"fmt"
	"io"
	"net/netip"
	"sync"
)

// slots admits transfers: at most max in flight, at most perClient from
// one client (an IPv4 address, an IPv6 /64). A transfer is pending until
// its client acknowledges the first packet; UDP sources can be forged, and
// a forged request is never acknowledged, so when every slot is taken the
// oldest pending transfer gives way to the new request, and under
// pressure (more than half the slots taken) a pending transfer waits for
// its first acknowledgement only a short time (Config.FirstACKTimeout).
// Only transfers that a client is acknowledging can make the server busy.
type slots struct {
	mu        sync.Mutex
	max       int
	perClient int
	inFlight  int
	byClient  map[netip.Prefix]int
	pending   list.List // of *slot, oldest first
}

// slot is one admitted transfer.
type slot struct {
	s       *slots
	client  netip.Prefix
	elem    *list.Element // in s.pending; nil once acknowledged
	conn    io.Closer     // the transfer's socket, once it has one
	evicted bool          // gave way to a newer request: its count is gone
	done    bool
}

func newSlots(max, perClient int) *slots {
	return &slots{max: max, perClient: perClient, byClient: make(map[netip.Prefix]int)}
}

// clientKey is the unit of the per-client cap: one IPv4 address, or the
// /64 of an IPv6 one (a host picks its addresses within its /64).
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// acquire admits a transfer for client, or says why not (ErrBusy).
func (s *slots) acquire(client netip.Addr) (*slot, error) {
	key := clientKey(client)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byClient[key] >= s.perClient {
		return nil, fmt.Errorf("%w: %d transfers from %s already", ErrBusy, s.perClient, key)
	}
	if s.inFlight >= s.max {
		oldest := s.pending.Front()
		if oldest == nil {
			return nil, fmt.Errorf("%w: %d transfers in flight", ErrBusy, s.max)
		}
		s.evict(oldest.Value.(*slot))
	}
	sl := &slot{s: s, client: key}
	sl.elem = s.pending.PushBack(sl)
	s.inFlight++
	s.byClient[key]++
	return sl, nil
}

// evict frees a pending slot at once and stops its transfer by closing its
// socket; the transfer's goroutine then ends at its next read.
func (s *slots) evict(sl *slot) {
	s.forget(sl)
	sl.evicted = true
	if sl.conn != nil {
		sl.conn.Close()
	}
}

// forget takes sl out of the counts. The caller holds s.mu.
func (s *slots) forget(sl *slot) {
	if sl.elem != nil {
		s.pending.Remove(sl.elem)
		sl.elem = nil
	}
	s.inFlight--
	if s.byClient[sl.client]--; s.byClient[sl.client] <= 0 {
		delete(s.byClient, sl.client)
	}
}

// underPressure reports whether more than half the slots are taken.
func (s *slots) underPressure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return 2*s.inFlight > s.max
}

// attach gives the slot its transfer's socket; false (and conn closed)
// if the slot was evicted meanwhile.
func (sl *slot) attach(conn io.Closer) bool {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	if sl.evicted {
		conn.Close()
		return false
	}
	sl.conn = conn
	return true
}

// acknowledged marks the transfer as one a client answers: it no longer
// gives way to newer requests.
func (sl *slot) acknowledged() {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	if sl.elem != nil {
		sl.s.pending.Remove(sl.elem)
		sl.elem = nil
	}
}

// wasEvicted reports whether the slot gave way to a newer request.
func (sl *slot) wasEvicted() bool {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	return sl.evicted
}

// release ends the transfer's hold on its slot.
func (sl *slot) release() {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	if !sl.evicted && !sl.done {
		sl.s.forget(sl)
	}
	sl.done = true
}
