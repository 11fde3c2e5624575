package httpserve

import (
	"cmp"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener admits a listener's connections: at most max open at
// once, at most perClient from one client (an IPv4 address, an IPv6 /64).
// Connections that wait for a request are the first to go when a limit is
// reached, so that idle keep-alive connections, however many are opened,
// never lock a new client out:
//
//   - a client at perClient loses its oldest idle connection to its new
//     one; with none idle, the new one is refused (closed at once);
//   - at max, the oldest idle connections of all close, evictBatch of them
//     at once; with none idle, the new connection waits until one is
//     idle or closed, as the others then wait in the kernel's accept queue.
//
// A connection is idle from its accept, or the end of an answer, until
// the headers of its next request are read: one that trickles a header
// in is idle too. Its server marks it busy for the answer (slot.busy).
//
// The listener hands out TCP connections as themselves (a *net.TCPConn
// inside): net/http then still reaches their ReadFrom, which is
// sendfile(2), for kernels, initrds and images. netutil.LimitListener's
// wrapper hides it, and every byte went through user space in 32 KiB writes.
type limitListener struct {
	net.Listener
	max, perClient int
	log            *slog.Logger
	share          *share  // the requests served outside Config.Reserved
	counts         *counts // the Server's, for Stats

	mu      sync.Mutex
	open    map[*slot]struct{}
	clients map[netip.Addr]map[*slot]struct{}

	tick         atomic.Int64  // the clock of idle since: a count, cheaper than time.Now
	freed        chan struct{} // a slot was freed: a waiting Accept looks again
	done         chan struct{} // closed by Close: an Accept waiting for a slot ends
	closed       sync.Once
	refused      atomic.Int64 // connections refused since the last log line
	lastRefusLog atomic.Int64 // Unix ns
}

// evictWait is how often an Accept waiting for a slot looks for a
// connection that went idle (nothing signals that).
const evictWait = 20 * time.Millisecond

func newLimitListener(l net.Listener, max, perClient int, log *slog.Logger) *limitListener {
	if log == nil {
		log = slog.Default()
	}
	return &limitListener{Listener: l, max: max, perClient: perClient, log: log, share: &share{}, counts: &counts{},
		open: map[*slot]struct{}{}, clients: map[netip.Addr]map[*slot]struct{}{},
		freed: make(chan struct{}, 1), done: make(chan struct{})}
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closed.Do(func() { close(l.done) })
	return err
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s, ok := l.admit(c)
		if !ok {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			return &limitedTCPConn{TCPConn: tc, slot: s}, nil
		}
		return &limitedConn{Conn: c, slot: s}, nil
	}
}

// admit gives c a slot, making room as the type's comment says; false:
// c was refused, or the listener closed while c waited, and c is closed.
func (l *limitListener) admit(c net.Conn) (*slot, bool) {
	s := &slot{l: l, client: clientKey(c.RemoteAddr()), raw: c}
	var timer *time.Timer
	for {
		l.mu.Lock()
		victims, verdict := l.makeRoom(s.client)
		if verdict == admitted {
			s.state.Store(l.tick.Add(1))
			l.add(s)
		}
		l.mu.Unlock()
		closeAll(victims)
		l.counts.evicted.Add(int64(len(victims)))
		switch verdict {
		case admitted:
			return s, true
		case refused:
			c.Close()
			l.noteRefused(s.client)
			return nil, false
		}
		if timer == nil {
			timer = time.NewTimer(evictWait)
			defer timer.Stop()
		} else {
			timer.Reset(evictWait)
		}
		select {
		case <-l.freed:
		case <-timer.C:
		case <-l.done:
			c.Close()
			return nil, false
		}
	}
}

// What makeRoom decides for a new connection.
const (
	admitted = iota
	refused  // its client has perClient open, none idle
	wait     // max are open, none idle
)

// makeRoom makes room for one more connection of client, under l.mu: it
// returns the idle connections to close for it, and whether it fits.
func (l *limitListener) makeRoom(client netip.Addr) (victims []*slot, verdict int) {
	if mine := l.clients[client]; l.perClient > 0 && client.IsValid() && len(mine) >= l.perClient {
		victims = l.evict(mine, len(mine)-l.perClient+1)
		if len(mine) >= l.perClient {
			return victims, refused
		}
	}
	if len(l.open) >= l.max {
		victims = append(victims, l.evict(l.open, max(len(l.open)-l.max+1, l.max/evictBatch))...)
		if len(l.open) >= l.max {
			return victims, wait
		}
	}
	return victims, admitted
}

// evictBatch: at max, 1/evictBatch of the connections (the oldest idle)
// close at once, so that a flood does not scan them at every accept.
const evictBatch = 32

// evict takes up to n of the oldest idle connections of set out of the
// count, marked gone, under l.mu; the caller closes them.
func (l *limitListener) evict(set map[*slot]struct{}, n int) []*slot {
	type idle struct {
		s     *slot
		since int64
	}
	var cands []idle
	for s := range set {
		if v := s.state.Load(); v > 0 {
			cands = append(cands, idle{s, v})
		}
	}
	if len(cands) > n {
		slices.SortFunc(cands, func(a, b idle) int { return cmp.Compare(a.since, b.since) })
	}
	var out []*slot
	for _, c := range cands {
		if len(out) == n {
			break
		}
		if c.s.state.CompareAndSwap(c.since, slotGone) { // not busy since
			l.remove(c.s)
			out = append(out, c.s)
		}
	}
	return out
}

func closeAll(victims []*slot) {
	for _, s := range victims {
		raw := s.raw
		if nc, ok := raw.(interface{ NetConn() net.Conn }); ok {
			raw = nc.NetConn() // TLS: no close_notify to a client that may not read it
		}
		raw.Close()
	}
}

func (l *limitListener) add(s *slot) {
	l.open[s] = struct{}{}
	if !s.client.IsValid() {
		return
	}
	mine := l.clients[s.client]
	if mine == nil {
		mine = map[*slot]struct{}{}
		l.clients[s.client] = mine
	}
	mine[s] = struct{}{}
}

// remove takes s out of the count, under l.mu; again is a no-op.
func (l *limitListener) remove(s *slot) {
	if _, ok := l.open[s]; !ok {
		return
	}
	delete(l.open, s)
	if mine := l.clients[s.client]; mine != nil {
		delete(mine, s)
		if len(mine) == 0 {
			delete(l.clients, s.client)
		}
	}
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// noteRefused logs a refused connection, at most one line in 10 s.
func (l *limitListener) noteRefused(client netip.Addr) {
	l.counts.refused.Add(1)
	n := l.refused.Add(1)
	now, last := time.Now().UnixNano(), l.lastRefusLog.Load()
	if now-last < int64(10*time.Second) || !l.lastRefusLog.CompareAndSwap(last, now) {
		return
	}
	l.refused.Add(-n)
	l.log.Warn("http: connections refused: their client has as many open as it may, none idle",
		"client", client.String(), "max_per_client", l.perClient, "refused", n, "listener", l.Addr().String())
}

// clientKey is whom a connection counts against: its IPv4 address, or
// the /64 of its IPv6 address (one host's share of a network); the zero
// Addr for anything but IP, which has no per-client cap.
func clientKey(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// slot is a connection's place in its listener's count, and its state.
type slot struct {
	l      *limitListener
	client netip.Addr
	raw    net.Conn     // as accepted, to close it when evicted
	state  atomic.Int64 // > 0: idle since (l.tick); else slotBusy or slotGone
}

const (
	slotBusy = -1 // answering a request
	slotGone = -2 // closed or evicted
)

// busy marks the connection busy with a request, so that it is not
// evicted; false: it was evicted (closed) already.
func (s *slot) busy() bool {
	for {
		v := s.state.Load()
		if v == slotGone {
			return false
		}
		if v == slotBusy || s.state.CompareAndSwap(v, slotBusy) {
			return true
		}
	}
}

// idle marks a busy connection idle, waiting for its next request.
func (s *slot) idle() { s.state.CompareAndSwap(slotBusy, s.l.tick.Add(1)) }

// free takes the connection out of the count; again is a no-op.
func (s *slot) free() {
	if s.state.Swap(slotGone) == slotGone {
		return // evicted: out of the count already
	}
	s.l.mu.Lock()
	s.l.remove(s)
	s.l.mu.Unlock()
}

// limitedTCPConn is a TCP connection that frees its slot when closed; it
// keeps every method of *net.TCPConn, ReadFrom (sendfile) included.
type limitedTCPConn struct {
	*net.TCPConn
	slot *slot
}

func (c *limitedTCPConn) Close() error {
	err := c.TCPConn.Close()
	c.slot.free()
	return err
}

// limitedConn is any other connection (TLS) that frees its slot when closed.
type limitedConn struct {
	net.Conn
	slot *slot
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.slot.free()
	return err
}

// slotOf is the slot of a connection the listener handed out, as net/http
// or the fast path holds it; nil for another.
func slotOf(c net.Conn) *slot {
	switch c := c.(type) {
	case *limitedTCPConn:
		return c.slot
	case *limitedConn:
		return c.slot
	case *prefixConn:
		return c.slot
	}
	return nil
}
