package console

import (
	"context"
	"errors"
	"sync"
	"time"
)

// session is one system's SOL session: a loop that keeps ipmitool
// running (run), the Ring it records into, and its readers.
type session struct {
	system   string
	m        *Manager
	ring     *Ring
	ctx      context.Context
	cancel   context.CancelFunc
	loopDone chan struct{} // closed when run returns
	done     chan struct{} // closed when stop is over
	wake     chan struct{} // new BMC settings: try again now

	mu        sync.Mutex
	bmc       BMC
	proc      *solProc // the running ipmitool, nil between runs
	status    Status
	followers map[*follower]struct{}
	attached  bool
	ringErr   bool   // a Ring write failed (logged once)
	reported  string // the error last logged
}

func newSession(system string, bmc BMC, ring *Ring, m *Manager) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		system: system, m: m, ring: ring, ctx: ctx, cancel: cancel,
		loopDone: make(chan struct{}), done: make(chan struct{}), wake: make(chan struct{}, 1),
		bmc: bmc, followers: map[*follower]struct{}{},
		status: Status{System: system, State: StateConnecting, Since: time.Now()},
	}
}

// setBMC takes new BMC settings; changed ones wake a waiting loop.
func (s *session) setBMC(b BMC) {
	s.mu.Lock()
	changed := s.bmc != b
	s.bmc = b
	s.mu.Unlock()
	if changed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// run opens the session again and again until stop.
func (s *session) run() {
	defer close(s.loopDone)
	b := backoff{min: s.m.cfg.MinBackoff, max: s.m.cfg.MaxBackoff}
	for s.ctx.Err() == nil {
		openFor, err := s.attempt()
		if s.ctx.Err() != nil {
			return
		}
		if openFor >= s.m.cfg.MaxBackoff {
			b.reset() // it worked for a good while: start again from MinBackoff
		}
		if s.pause(s.failed(err, &b)) {
			b.reset()
		}
	}
}

// failed records why an attempt ended and returns how long to wait
// before the next one (-1: until new BMC settings).
func (s *session) failed(err error, b *backoff) time.Duration {
	switch {
	case errors.Is(err, ErrUnsupported):
		s.setState(StateUnsupported, err)
		return -1
	case errors.Is(err, ErrAuth):
		s.setState(StateAuthFailed, err)
		return jitter(s.m.cfg.MaxBackoff)
	}
	s.setState(StateRetrying, err)
	return b.next()
}

// pause waits d (-1: forever) and reports whether new BMC settings
// ended the wait. It returns at once when the session is stopped.
func (s *session) pause(d time.Duration) (woken bool) {
	var timer <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-s.ctx.Done():
	case <-s.wake:
		return true
	case <-timer:
	}
	return false
}

// attempt clears a stale session, runs ipmitool sol activate until it
// ends, and returns how long the session was open and why it ended.
func (s *session) attempt() (time.Duration, error) {
	s.mu.Lock()
	bmc := s.bmc
	s.status.Attempts++
	s.mu.Unlock()
	s.setState(StateConnecting, nil)
	if err := s.m.tool.deactivate(s.ctx, bmc); err != nil {
		return 0, err
	}
	p, err := startSOL(s.ctx, s.m.tool, bmc)
	if err != nil {
		return 0, err
	}
	s.setProc(p)
	openFor := s.pump(p)
	s.setProc(nil)
	return openFor, p.wait()
}

func (s *session) setProc(p *solProc) {
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// stop ends the loop, releases the BMC's SOL payload if a session may be
// open on it, closes the readers and the Ring.
func (s *session) stop() error {
	s.cancel()
	<-s.loopDone
	s.mu.Lock()
	bmc, state := s.bmc, s.status.State
	s.mu.Unlock()
	if state == StateOpen || state == StateConnecting {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.m.tool.deactivate(ctx, bmc) // best effort: the next activation clears it anyway
		cancel()
	}
	s.setState(StateStopped, nil)
	s.closeFollowers()
	err := s.ring.Close()
	close(s.done)
	return err
}
