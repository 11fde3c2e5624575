package appliance

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
)

// Bounds of a failed build's console note.
const (
	consoleNoteLines = 20
	consoleNoteRunes = 200
)

// Run reconciles the captures on every registry change and operator ask,
// and when a linger ends, until ctx ends; then it stops every session
// (Manager.Close), ends the followers and writes the notes under way.
func (c *consoles) Run(ctx context.Context) error {
	defer c.shutdown()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if next := c.reconcile(ctx); !next.IsZero() {
			timer.Reset(max(next.Sub(c.now()), 10*time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// shutdown stops everything Run started: no capture after it.
func (c *consoles) shutdown() {
	close(c.done)
	c.ops.Lock()
	c.mu.Lock()
	c.stopped = true
	for _, t := range c.targets {
		t.on = false // Close stops them all
	}
	c.mu.Unlock()
	c.mgr.Close()
	c.ops.Unlock()
	c.notes.Wait()
}

// noteFailure puts the last console lines of a failed build in the
// system's history and its last line on its timeline, once the bytes in
// flight have come (settle): the lines that began before the failure
// was seen (at seen, on the wall clock, as the Ring's stamps), not what
// the machine printed after it (a shell, a reboot: an installer's shell
// was seen 60 ms after its failure report). Nothing when the console has
// no lines.
func (c *consoles) noteFailure(ctx context.Context, name string, seen time.Time) {
	select {
	case <-time.After(c.settle):
	case <-c.done: // stopping: note what there is now
	}
	lines, err := c.mgr.Lines(name, time.Time{})
	if err != nil {
		c.log.Warn("console lines of a failed build", "system", name, "err", err)
		return
	}
	for len(lines) > 0 && lines[len(lines)-1].At.After(seen) {
		lines = lines[:len(lines)-1]
	}
	last := lastConsoleLines(lines, consoleNoteLines, consoleNoteRunes)
	if len(last) == 0 {
		return
	}
	ctx = registry.WithActor(context.WithoutCancel(ctx), registry.Actor{Name: "appliance"})
	note := "last console lines before the build failed:\n" + strings.Join(last, "\n")
	if err := c.reg.Note(ctx, registry.ObjSystem, name, "console", note); err != nil {
		c.log.Warn("history of a failed build's console", "system", name, "err", err)
	}
	c.events.Record(registry.Event{System: name, Kind: "console", Detail: last[len(last)-1]})
}

// lastConsoleLines are the last n lines that end in text, cleaned of
// control sequences and boot tokens (console.Text) and cut to maxRunes each; the empty
// lines at the end are left out.
func lastConsoleLines(lines []console.Line, n, maxRunes int) []string {
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		text := strings.TrimRight(console.Text(lines[i].Text), " \t")
		if text == "" && len(out) == 0 {
			continue // trailing blank lines say nothing
		}
		if utf8.RuneCountInString(text) > maxRunes {
			text = string([]rune(text)[:maxRunes-1]) + "…"
		}
		out = append(out, text)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
