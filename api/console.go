package api

import (
	"context"
	"io"
	"time"

	"github.com/provision/provision/console"
)

// Console is the machines' serial consoles as the API needs them: the
// appliance's capture (package console's Manager behind the appliance's
// policy of when to capture) satisfies it. nil: the console routes answer
// 501.
type Console interface {
	// Status says whether system's console is being captured, why, and
	// how its SOL session is doing. ok is false for a system whose
	// console was never captured and has nothing recorded.
	Status(system string) (st ConsoleStatus, ok bool)
	// Lines returns system's recorded console lines since a time (zero:
	// all that are kept), oldest first, raw: Clean them to show them.
	Lines(system string, since time.Time) ([]console.Line, error)
	// Follow returns the live raw bytes of system's console until ctx
	// ends. It does not need a session now: the channel stays open while
	// none runs and carries the bytes of the next one (a follower opened
	// before a reinstall sees the reinstall). It is closed only when ctx
	// ends or the appliance stops.
	Follow(ctx context.Context, system string) (<-chan []byte, error)
	// Attach connects one operator to system's console (console.Manager's
	// Attach): typed bytes from in, live raw bytes to out, until in or ctx
	// ends. The console is captured while the operator is attached (it
	// starts a capture if none runs). Errors: console.ErrAttached (another
	// operator is attached), console.ErrTooMany, the system has no BMC
	// (registry ErrInvalid) or does not exist (registry ErrNotFound).
	Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error
	// Capture starts (on) or ends (off) a capture the operator asked for;
	// off ends only the operator's ask, not a build's capture.
	Capture(ctx context.Context, system string, on bool) error
}

// ConsoleStatus is a system's console, as GET /api/v1/systems/NAME/console
// shows it (beside its lines).
type ConsoleStatus struct {
	System string `json:"system"`
	// Capturing is true while the appliance records the console; Why says
	// what asked for it: "installing", "pending", "inspecting",
	// "operator", "attached", and for a discovered machine's console
	// (MachineConsoleName) "discovering".
	Capturing bool      `json:"capturing"`
	Why       []string  `json:"why,omitempty"`
	State     string    `json:"state,omitempty"` // console.State: connecting, open, retrying, auth-failed, unsupported, stopped
	Since     time.Time `json:"since,omitzero"`
	BMC       string    `json:"bmc,omitempty"` // user@address:port, never the password
	LastError string    `json:"last_error,omitempty"`
	Bytes     int64     `json:"bytes,omitempty"`
	// Reconnects are the sessions opened again after the BMC dropped one.
	Reconnects int  `json:"reconnects,omitempty"`
	Followers  int  `json:"followers,omitempty"`
	Attached   bool `json:"attached,omitempty"`
}

// ConsoleLine is one console line as the API shows it: the time its first
// byte arrived and its text with control sequences stripped (Clean).
// Partial is set on a line the machine has not ended yet (a prompt) in
// the live stream: the rest of it comes as the next line.
type ConsoleLine struct {
	At      time.Time `json:"at"`
	Text    string    `json:"text"`
	Partial bool      `json:"partial,omitempty"`
}
