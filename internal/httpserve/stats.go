package httpserve

import (
	"sync"
	"sync/atomic"
)

// Stats are counts of a Server's connections, over the listeners it
// serves now, for metrics and tests.
type Stats struct {
	Open, Idle int   // connections open, and those of them idle (see limit.go)
	Evicted    int64 // idle connections closed to make room, since New
	Refused    int64 // connections refused at MaxConnsPerClient, none idle
	Overloaded int64 // requests answered 503: the share outside Reserved was full
}

// Stats returns the Server's counts.
func (s *Server) Stats() Stats {
	st := Stats{Evicted: s.counts.evicted.Load(), Refused: s.counts.refused.Load(), Overloaded: s.counts.overloaded.Load()}
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	for l := range s.counts.listeners {
		open, idle := l.count()
		st.Open += open
		st.Idle += idle
	}
	return st
}

// counts are what Stats reports: the counters the listeners add to, and
// the listeners being served.
type counts struct {
	evicted, refused, overloaded atomic.Int64
	mu                           sync.Mutex
	listeners                    map[*limitListener]struct{}
}

func (c *counts) serving(l *limitListener, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listeners == nil {
		c.listeners = map[*limitListener]struct{}{}
	}
	if on {
		c.listeners[l] = struct{}{}
	} else {
		delete(c.listeners, l)
	}
}

// count is how many connections l has open, and idle.
func (l *limitListener) count() (open, idle int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.open {
		if s.state.Load() > 0 {
			idle++
		}
	}
	return len(l.open), idle
}
