package console

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ManagerConfig is a Manager's settings; the zero value of each field
// is its default.
type ManagerConfig struct {
	Dir         string        // where the Rings are (required)
	RingMax     int64         // each system's Ring size; 0: DefaultMax (1 MiB)
	MaxSessions int           // SOL sessions at once; 0: 256
	Ipmitool    string        // ipmitool's path; "": found on PATH
	Log         *slog.Logger  // nil: discard
	MinBackoff  time.Duration // first wait before reopening a session; 0: 1s
	MaxBackoff  time.Duration // longest wait (and the wait after a refused password); 0: 60s
}

func (c ManagerConfig) withDefaults() ManagerConfig {
	if c.MaxSessions <= 0 {
		c.MaxSessions = 256
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 60 * time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
	return c
}

// Manager holds the SOL sessions: one per system at most, shared by all
// its readers. Its methods are safe for concurrent use.
type Manager struct {
	cfg      ManagerConfig
	tool     tool
	mu       sync.Mutex
	sessions map[string]*session
	closing  map[string]*session // being stopped: their Ring is still open
}

// NewManager returns a Manager with no sessions.
func NewManager(cfg ManagerConfig) *Manager {
	cfg = cfg.withDefaults()
	return &Manager{cfg: cfg, tool: tool{path: cfg.Ipmitool}, sessions: map[string]*session{}, closing: map[string]*session{}}
}

// Capture records system's console into its Ring from now until Stop,
// through a SOL session with bmc. If the system is captured already the
// session is kept; new BMC settings (a corrected password) replace the
// old ones, and a session that gave up on the old ones tries again at
// once. Beyond MaxSessions Capture is refused (ErrTooMany).
func (m *Manager) Capture(system string, bmc BMC) error {
	m.lockSettled(system)
	defer m.mu.Unlock()
	if err := bmc.check(); err != nil {
		return fmt.Errorf("console: system %s: %w", system, err)
	}
	if s, ok := m.sessions[system]; ok {
		s.setBMC(bmc)
		return nil
	}
	if len(m.sessions) >= m.cfg.MaxSessions {
		return fmt.Errorf("console: system %s: %w (%d open, the most allowed): not captured", system, ErrTooMany, len(m.sessions))
	}
	ring, err := OpenRing(m.cfg.Dir, system, m.cfg.RingMax)
	if err != nil {
		return err
	}
	s := newSession(system, bmc, ring, m)
	m.sessions[system] = s
	go s.run()
	return nil
}

// Stop ends system's session (no session is no error): ipmitool is ended,
// the BMC's SOL payload released, followers' channels closed, an attached
// operator's Attach returns, and the Ring closed. It returns once done.
func (m *Manager) Stop(system string) error {
	m.mu.Lock()
	s, ok := m.sessions[system]
	if ok {
		delete(m.sessions, system)
		m.closing[system] = s
	}
	m.mu.Unlock()
	if !ok {
		return nil
	}
	err := s.stop()
	m.mu.Lock()
	delete(m.closing, system)
	m.mu.Unlock()
	return err
}

// lockSettled locks m.mu once system is not being stopped, so that its
// Ring is open at most once.
func (m *Manager) lockSettled(system string) {
	m.mu.Lock()
	for {
		s, ok := m.closing[system]
		if !ok {
			return
		}
		m.mu.Unlock()
		<-s.done
		m.mu.Lock()
	}
}

// Close stops every session.
func (m *Manager) Close() error {
	m.mu.Lock()
	var systems []string
	for system := range m.sessions {
		systems = append(systems, system)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, system := range systems {
		wg.Go(func() { m.Stop(system) })
	}
	wg.Wait()
	return nil
}

// session returns system's session, or ErrNotCaptured.
func (m *Manager) session(system string) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sessions[system]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("console: system %s: %w", system, ErrNotCaptured)
}

// Lines returns system's console lines since a time, oldest first, from
// its Ring, whether or not it is being captured.
func (m *Manager) Lines(system string, since time.Time) ([]Line, error) {
	m.lockSettled(system)
	if s, ok := m.sessions[system]; ok {
		m.mu.Unlock()
		return s.ring.Lines(since)
	}
	defer m.mu.Unlock()
	if err := checkSystem(system); err != nil || !m.hasRing(system) {
		return nil, err // no console recorded: no lines, no files created
	}
	r, err := OpenRing(m.cfg.Dir, system, m.cfg.RingMax)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lines(since)
}

// hasRing reports whether system's Ring has files in Dir.
func (m *Manager) hasRing(system string) bool {
	for _, name := range []string{system + ".log", system + ".log.1"} {
		if _, err := os.Stat(filepath.Join(m.cfg.Dir, name)); err == nil {
			return true
		}
	}
	return false
}
