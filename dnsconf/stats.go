package dnsconf

import (
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Stats counts what a Server did since New.
type Stats struct {
	Queries          uint64            // messages received with a readable header
	Malformed        uint64            // messages that did not parse or point into their header (answered FORMERR when their header was read)
	Truncated        uint64            // UDP replies sent empty with TC, for the client to retry over TCP
	Rcodes           map[string]uint64 // replies sent, by rcode: "NOERROR", "NXDOMAIN", "REFUSED", ...
	Serial           uint64            // registry serial of the zone served; 0 before the first zone
	Swaps            uint64            // zones swapped in
	Limited          uint64            // UDP queries dropped by the rate limit for untrusted clients
	Forwarded        uint64            // queries for names outside the zone sent to upstream resolvers (Config.Forward)
	CacheHits        uint64            // queries for names outside the zone answered from the cache
	UpstreamFailures uint64            // upstream tries that failed: no answer in time, SERVFAIL, REFUSED, an error
	Coalesced        uint64            // forwarded queries answered by an identical one in flight
	RecursionLimited uint64            // forwarded queries REFUSED by the client's rate limit (Config.RecursionRate)
	Overloaded       uint64            // forwarded queries refused for the bounds of queries in flight (Config.MaxInFlight)
	InFlight         int               // forwarded queries waiting for an upstream now
	Cached           int               // answers in the cache
	CachedBytes      int               // their size (Config.CacheBytes)
	TCPConns         int               // TCP connections open now
	TCPRefused       uint64            // TCP connections closed at once for the bounds (Config.MaxTCP)
	AcceptErrors     uint64            // TCP accepts that failed (no descriptor left...), each followed by a wait
}

type counters struct {
	queries, malformed, truncated, swaps, limited atomic.Uint64
	forwarded, cacheHits, upstreamFailures        atomic.Uint64
	coalesced, recursionLimited, overloaded       atomic.Uint64
	tcpRefused, acceptErrors                      atomic.Uint64
	rcodes                                        [dns.RcodeBadCookie + 1]atomic.Uint64 // RFC 6895 2.3

	mu      sync.Mutex
	workers []*workerCounters
}

// workerCounters are what one UDP worker counts alone (Stats adds them).
type workerCounters struct {
	queries, truncated atomic.Uint64
	rcodes             [dns.RcodeBadCookie + 1]atomic.Uint64
	_                  [64]byte // no cache line shared with the next worker's
}

// worker returns new counters for a worker, counted in Stats.
func (c *counters) worker() *workerCounters {
	w := &workerCounters{}
	c.mu.Lock()
	c.workers = append(c.workers, w)
	c.mu.Unlock()
	return w
}

func (c *counters) reply(m *dns.Msg) {
	if m.Truncated {
		c.truncated.Add(1)
	}
	c.rcodes[min(max(m.Rcode, 0), len(c.rcodes)-1)].Add(1)
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Queries:          s.stats.queries.Load(),
		Malformed:        s.stats.malformed.Load(),
		Truncated:        s.stats.truncated.Load(),
		Swaps:            s.stats.swaps.Load(),
		Limited:          s.stats.limited.Load(),
		Forwarded:        s.stats.forwarded.Load(),
		CacheHits:        s.stats.cacheHits.Load(),
		UpstreamFailures: s.stats.upstreamFailures.Load(),
		Coalesced:        s.stats.coalesced.Load(),
		RecursionLimited: s.stats.recursionLimited.Load(),
		Overloaded:       s.stats.overloaded.Load(),
		TCPConns:         s.tcp.held(),
		TCPRefused:       s.stats.tcpRefused.Load(),
		AcceptErrors:     s.stats.acceptErrors.Load(),
		Rcodes:           map[string]uint64{},
	}
	if s.fwd != nil {
		st.Cached, st.CachedBytes = s.fwd.cache.len()
		st.InFlight = s.fwd.inflight.held()
	}
	s.stats.mu.Lock()
	workers := s.stats.workers
	s.stats.mu.Unlock()
	for i := range s.stats.rcodes {
		n := s.stats.rcodes[i].Load()
		for _, w := range workers {
			n += w.rcodes[i].Load()
		}
		if n > 0 {
			st.Rcodes[rcodeName(i)] = n
		}
	}
	for _, w := range workers {
		st.Queries += w.queries.Load()
		st.Truncated += w.truncated.Load()
	}
	if z := s.Zone(); z != nil {
		st.Serial = z.Serial()
	}
	return st
}

func rcodeName(rcode int) string {
	if rcode == dns.RcodeBadVers {
		return "BADVERS" // miekg/dns names 16 after TSIG's BADSIG; this server does no TSIG
	}
	if name, ok := dns.RcodeToString[rcode]; ok {
		return name
	}
	return "OTHER"
}
