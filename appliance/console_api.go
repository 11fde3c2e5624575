package appliance

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
)

// consoles satisfies the API's Console.
var _ api.Console = (*consoles)(nil)

// Status is system's capture: the session's status while captured, else
// why it is not (a Redfish BMC, a refused capture) or how the last
// session ended; ok is false for a system never captured with nothing
// recorded.
func (c *consoles) Status(system string) (api.ConsoleStatus, bool) {
	c.mu.Lock()
	var t consoleTarget
	if p := c.targets[system]; p != nil {
		t = *p
		t.why = slices.Clone(p.why)
	}
	c.mu.Unlock()
	out := api.ConsoleStatus{System: system, Why: t.why}
	if t.on {
		if st, err := c.mgr.Status(system); err == nil {
			fromSession(&out, st)
			out.Capturing = true
			return out, true
		}
	}
	switch {
	case t.err != "":
		out.State, out.LastError = string(console.StateStopped), t.err
		if t.err == redfishConsole(system) {
			out.State = string(console.StateUnsupported)
		}
		return out, true
	case !t.last.Since.IsZero():
		fromSession(&out, t.last)
		return out, true
	case c.mgr.Recorded(system):
		out.State = string(console.StateStopped) // captured before this start
		return out, true
	}
	return out, len(out.Why) > 0
}

// fromSession fills out from a session's status.
func fromSession(out *api.ConsoleStatus, st console.Status) {
	out.State, out.Since, out.BMC, out.LastError = string(st.State), st.Since, st.BMC, st.LastError
	out.Bytes, out.Reconnects, out.Followers, out.Attached = st.Bytes, st.Reconnects, st.Followers, st.Attached
}

// Lines are system's recorded lines since a time, captured now or not.
func (c *consoles) Lines(system string, since time.Time) ([]console.Line, error) {
	return c.mgr.Lines(system, since)
}

// Capture adds (on) or removes (off) the operator's reason to capture
// system. On starts the session before it returns; off leaves the other
// reasons, and the linger, to decide.
func (c *consoles) Capture(ctx context.Context, system string, on bool) error {
	b, err := c.systemBMC(system)
	if err != nil {
		return err
	}
	if !on {
		c.mu.Lock()
		delete(c.operator, system)
		c.mu.Unlock()
		c.poke()
		return nil
	}
	c.mu.Lock()
	c.operator[system] = true
	c.mu.Unlock()
	c.poke()
	return c.ensure(system, b, "operator")
}

// Attach connects an operator to system's console, capturing it for as
// long as the operator is attached (and the linger after).
func (c *consoles) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	b, err := c.systemBMC(system)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.attached[system]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.attached[system]--; c.attached[system] <= 0 {
			delete(c.attached, system)
		}
		c.mu.Unlock()
		c.poke()
	}()
	if err := c.ensure(system, b, "attached"); err != nil {
		return err
	}
	return c.mgr.Attach(ctx, system, in, out)
}

// ensure captures system now, for a reason an operator gave (already in
// c.operator or c.attached, so that no reconcile stops it).
func (c *consoles) ensure(system string, b console.BMC, why string) error {
	c.ops.Lock()
	defer c.ops.Unlock()
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errConsoleStopping
	}
	t := c.targets[system]
	if t == nil {
		t = &consoleTarget{}
		c.targets[system] = t
	}
	if !slices.Contains(t.why, why) {
		t.why = append(t.why, why)
	}
	t.idle = time.Time{}
	running := t.on && t.bmc == b
	c.mu.Unlock()
	if running {
		return nil
	}
	return c.capture(system, b)
}
