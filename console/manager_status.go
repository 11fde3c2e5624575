package console

import (
	"slices"
	"strings"
	"time"
)

// State is where a system's SOL session is.
type State string

// A session's states.
const (
	StateConnecting  State = "connecting"  // ipmitool is opening the session
	StateOpen        State = "open"        // the machine's bytes are being recorded
	StateRetrying    State = "retrying"    // the session ended; waiting (backoff) to open it again
	StateAuthFailed  State = "auth-failed" // the BMC refused the user or password; tried again after MaxBackoff
	StateUnsupported State = "unsupported" // the BMC has no SOL (or it is disabled); not tried again
	StateStopped     State = "stopped"     // Stop was called
)

// Status is what a system's session is doing, for `system status`,
// metrics and the dashboard.
type Status struct {
	System     string
	BMC        string // user@address:port, no password
	State      State
	Since      time.Time // when State began
	LastError  string    // why the session last ended or failed; "" if it never did
	Bytes      int64     // console bytes recorded since Capture
	Attempts   int       // sessions tried (ipmitool runs of sol deactivate, then activate)
	Reconnects int       // attempts after the first
	Followers  int       // live readers (Follow), the attached operator included
	Attached   bool      // an operator is attached (Attach)
	Dropped    int64     // bytes not delivered to readers that fell behind
}

// Status returns system's session status, or ErrNotCaptured.
func (m *Manager) Status(system string) (Status, error) {
	s, err := m.session(system)
	if err != nil {
		return Status{}, err
	}
	return s.snapshot(), nil
}

// Sessions returns the status of every session, by system name.
func (m *Manager) Sessions() []Status {
	m.mu.Lock()
	all := make([]*session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	out := make([]Status, 0, len(all))
	for _, s := range all {
		out = append(out, s.snapshot())
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.System, b.System) })
	return out
}

// snapshot copies s's status.
func (s *session) snapshot() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.BMC = s.bmc.String()
	st.Followers = len(s.followers)
	st.Attached = s.attached
	st.Reconnects = max(st.Attempts-1, 0)
	return st
}
