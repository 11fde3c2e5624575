package console

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of a SOL session, matched with errors.Is.
var (
	// ErrAuth: the BMC refused the user or password.
	ErrAuth = errors.New("the BMC refused the user or password")
	// ErrUnsupported: the BMC has no SOL, or it is disabled.
	ErrUnsupported = errors.New("the BMC does not offer serial-over-LAN (unsupported or disabled)")
	// ErrTooMany: MaxSessions sessions are open already.
	ErrTooMany = errors.New("too many SOL sessions")
	// ErrNotCaptured: the system has no session (Capture first).
	ErrNotCaptured = errors.New("no console session (not captured)")
	// ErrAttached: another operator is attached to the system's console.
	ErrAttached = errors.New("another operator is attached to this console")
)

// classify turns what ipmitool printed on its way out into an error:
// ErrAuth (the RAKP messages of -v name a wrong user or password),
// ErrUnsupported (the BMC does not know the payload commands or has SOL
// disabled), or ipmitool's own last line.
func classify(out string) error {
	out = strings.TrimSpace(out)
	if out == "" {
		return errors.New("ipmitool ended")
	}
	if line, ok := lineWith(out, "unauthorized name", "HMAC is invalid", "invalid integrity check"); ok {
		return fmt.Errorf("%w (ipmitool: %s)", ErrAuth, line)
	}
	if line, ok := lineWith(out, "SOL payload disabled", "SOL payload type disabled", "SOL payload: Invalid command"); ok {
		return fmt.Errorf("%w (ipmitool: %s)", ErrUnsupported, line)
	}
	return fmt.Errorf("ipmitool: %s", lastLine(out))
}

// lineWith returns the first line of out holding one of subs, cleaned.
func lineWith(out string, subs ...string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				return Clean([]byte(strings.TrimSpace(line))), true
			}
		}
	}
	return "", false
}

// lastLine is the last line ipmitool printed, without control characters
// (it may quote what the BMC sent).
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return Clean([]byte(s))
}
