package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/registry"
)

func newConsole() *cobra.Command {
	c := &cobra.Command{
		Use:   "console NAME|MAC [--follow] [--since D] [--lines N] [--json] | console NAME --attach | console NAME --capture on|off",
		Short: "A system's or a discovered machine's serial console through its BMC (SOL): read, follow, attach",
		Long: `Print a system's serial console as the appliance recorded it (serial-over-LAN
through its BMC, captured while it installs, deploys or is inspected, and
whenever an operator asks): the last --lines lines (200), or those of the
last --since (10m, or an RFC 3339 time), each as "HH:MM:SS.mmm  text" in
local time, with control sequences stripped. --follow then prints the
lines as they come, until Ctrl-C; a line the machine has not ended (a
prompt) is printed at once and finished on the same line. Reading takes
the read right (a viewer).

--attach connects the terminal to the console, interactive, for one
operator at a time (the console right): what you type goes to the machine
(Ctrl-C too), what it prints comes back unfiltered. Detach with Ctrl-]
then "." (not sent), or by ending the input (a pipe's end). The terminal
is put in raw mode while attached and restored after.

--capture on records the console now (on an operator's ask) until
--capture off, which ends only that ask, not a build's capture.

Given a MAC address (aa:bb:cc:dd:ee:ff) instead of a system's name, it
reads the console of a discovered machine (provision discovered list): the
appliance records it from the enrolment of the machine's BMC (before it,
the appliance has no credentials for the BMC) for as long as its inventory
agent stays up: a watched machine (discovered watch) while it waits, the
others until 30 s after they are told to power off. Read and --follow
only: --attach and --capture are for systems.`,
		Example: `  provision console web001
  provision console web001 --follow --since 10m
  provision console 52:54:00:d9:0b:01 --follow
  provision console web001 --attach
  provision console web001 --capture on`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			f := c.Flags()
			attach, _ := f.GetBool("attach")
			capture, _ := f.GetString("capture")
			for _, mode := range []string{"attach", "capture"} {
				if !f.Changed(mode) {
					continue
				}
				for _, other := range []string{"attach", "capture", "follow", "since", "lines", "json"} {
					if other != mode && f.Changed(other) {
						return usage(fmt.Errorf("--%s goes alone: --%s does not go with it", mode, other))
					}
				}
			}
			src := systemConsole(client(c), a[0])
			if isMAC(a[0]) {
				if attach || f.Changed("capture") {
					return usage(fmt.Errorf("%s is a discovered machine's MAC: its console is read only (--attach and --capture are for systems)", a[0]))
				}
				src = machineConsole(client(c), a[0])
			}
			switch {
			case attach:
				return attachConsole(c, a[0])
			case f.Changed("capture"):
				return captureConsole(c, a[0], capture)
			}
			return readConsole(c, src)
		},
	}
	f := c.Flags()
	f.Bool("follow", false, "then print the lines as they come, until interrupted")
	f.String("since", "", "the lines since a time: this long ago (10m, 2h) or an RFC 3339 time")
	f.Int("lines", 200, "the last N lines at most (10000 at most)")
	f.Bool("json", false, "print JSON: the status and lines (with --follow: one line object a line)")
	f.Bool("attach", false, "interactive: type on the console (detach with Ctrl-] then .); the console right")
	f.String("capture", "", "on: record the console now, until off (an operator's ask); the console right")
	return c
}

// consoleSource is a console to read: a system's or a discovered
// machine's.
type consoleSource struct {
	name   string // "web001", "machine 52:54:00:d9:0b:01": whose, in messages
	lines  func(ctx context.Context, since string, n int) (*api.ConsoleView, error)
	follow func(ctx context.Context, since string, fn func(api.ConsoleLine) error) error
}

func systemConsole(cl *api.Client, name string) consoleSource {
	return consoleSource{name: name,
		lines: func(ctx context.Context, since string, n int) (*api.ConsoleView, error) {
			return cl.ConsoleLines(ctx, name, since, n)
		},
		follow: func(ctx context.Context, since string, fn func(api.ConsoleLine) error) error {
			return cl.FollowConsole(ctx, name, since, fn)
		}}
}

func machineConsole(cl *api.Client, mac string) consoleSource {
	return consoleSource{name: "machine " + mac,
		lines: func(ctx context.Context, since string, n int) (*api.ConsoleView, error) {
			return cl.MachineConsoleLines(ctx, mac, since, n)
		},
		follow: func(ctx context.Context, since string, fn func(api.ConsoleLine) error) error {
			return cl.FollowMachineConsole(ctx, mac, since, fn)
		}}
}

// isMAC says whether a console argument is a machine's MAC address in
// the colon form (aa:bb:cc:dd:ee:ff): no system name holds a ':' (the
// dashed form 52-54-00-d9-0b-01 is a valid system name).
func isMAC(arg string) bool {
	return strings.Contains(arg, ":") && api.MachineConsoleName(arg) != ""
}

// readConsole prints a console's recorded lines and, with --follow, the
// live ones.
func readConsole(c *cobra.Command, src consoleSource) error {
	since, _ := c.Flags().GetString("since")
	n, _ := c.Flags().GetInt("lines")
	if n < 1 || n > 10000 {
		return usage(fmt.Errorf("--lines %d: want 1 to 10000", n))
	}
	follow, _ := c.Flags().GetBool("follow")
	name := src.name
	v, err := src.lines(ctx(c), since, n)
	if err != nil {
		return err
	}
	p := &linePrinter{w: c.OutOrStdout(), json: asJSON(c)}
	if asJSON(c) && !follow {
		return printJSON(c.OutOrStdout(), v)
	}
	if len(v.Lines) == 0 && !v.Status.Capturing && !asJSON(c) {
		fmt.Fprintf(c.ErrOrStderr(), "%s's console: not captured, nothing recorded%s\n", name, sinceText(since))
		if strings.HasPrefix(name, "machine ") {
			fmt.Fprintln(c.ErrOrStderr(), "  (a discovered machine's console is recorded once its BMC is enrolled, while its agent stays up)")
		}
	}
	for _, l := range v.Lines {
		if err := p.print(l); err != nil {
			return err
		}
	}
	if !follow {
		return nil
	}
	// The stream repeats what was recorded since the last line printed,
	// then goes on live: the lines printed already are skipped.
	from := since
	if len(v.Lines) > 0 {
		from = v.Lines[len(v.Lines)-1].At.Format(time.RFC3339Nano)
	}
	seen := newSeenLines(v.Lines)
	err = src.follow(ctx(c), from, func(l api.ConsoleLine) error {
		if seen.skip(l) {
			return nil
		}
		return p.print(l)
	})
	if ctx(c).Err() != nil {
		return nil
	}
	return err
}

// sinceText is " in the last D" for a --since, for messages.
func sinceText(since string) string {
	if since == "" {
		return ""
	}
	return " since " + since
}

// linePrinter prints console lines as "HH:MM:SS.mmm  text": a partial line
// without its line end, its rest after it on the same line.
type linePrinter struct {
	w    io.Writer
	json bool
	open bool // a partial line was printed: the next line continues it
}

func (p *linePrinter) print(l api.ConsoleLine) error {
	if p.json {
		return json.NewEncoder(p.w).Encode(l) // one object a line
	}
	var b strings.Builder
	if !p.open {
		b.WriteString(l.At.Local().Format("15:04:05.000") + "  ")
	}
	b.WriteString(keepTabs(l.Text))
	p.open = l.Partial
	if !l.Partial {
		b.WriteString("\n")
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// keepTabs is s without control characters but its tabs (console.Clean
// keeps them, textsafe.Strip would not).
func keepTabs(s string) string {
	parts := strings.Split(s, "\t")
	for i, p := range parts {
		parts[i] = textsafe.Strip(p)
	}
	return strings.Join(parts, "\t")
}

// seenLines are the lines printed before the stream began, by time: the
// stream's recorded lines up to the last of them are skipped.
type seenLines struct {
	last  time.Time
	texts map[string]bool // of the lines at last
	done  bool            // a line after last came: skip no more
}

func newSeenLines(lines []api.ConsoleLine) *seenLines {
	s := &seenLines{texts: map[string]bool{}}
	if len(lines) > 0 {
		s.last = lines[len(lines)-1].At
	}
	for _, l := range lines {
		if l.At.Equal(s.last) {
			s.texts[l.Text] = true
		}
	}
	return s
}

func (s *seenLines) skip(l api.ConsoleLine) bool {
	if s.done || s.last.IsZero() {
		return false
	}
	if l.At.Before(s.last) || l.At.Equal(s.last) && s.texts[l.Text] && !l.Partial {
		return true
	}
	s.done = true
	return false
}

// captureConsole starts or ends an operator's capture.
func captureConsole(c *cobra.Command, name, onOff string) error {
	if onOff != "on" && onOff != "off" {
		return usage(fmt.Errorf("--capture %q: want on or off", onOff))
	}
	st, err := client(c).CaptureConsole(ctx(c), name, onOff == "on")
	if err != nil {
		return err
	}
	confirm(c, "%s's console: %s", name, consoleStatusText(*st))
	return nil
}

// consoleStatusText says whether a console is captured, how its session
// is doing and why it is captured.
func consoleStatusText(st api.ConsoleStatus) string {
	if !st.Capturing {
		return "not capturing"
	}
	s := "capturing"
	if st.State != "" {
		s += " (" + st.State + ")"
	}
	if !st.Since.IsZero() {
		s += " since " + st.Since.Local().Format("2006-01-02 15:04:05")
	}
	if len(st.Why) > 0 {
		s += " for " + strings.Join(st.Why, ", ")
	}
	if st.Attached {
		s += ", an operator attached"
	}
	if st.LastError != "" {
		s += "; last error: " + textsafe.Strip(st.LastError)
	}
	return s
}

// attachConsole connects the terminal (or a pipe) to a system's console
// until the operator detaches.
func attachConsole(c *cobra.Command, name string) error {
	stderr := c.ErrOrStderr()
	in := &detachReader{r: c.InOrStdin()}
	var restore func()
	ready := func() {
		fmt.Fprintf(stderr, "attached to %s's console: detach with Ctrl-] then .\n", name)
		if f, ok := c.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			if old, err := term.MakeRaw(int(f.Fd())); err == nil {
				restore = func() { term.Restore(int(f.Fd()), old) }
			}
		}
	}
	err := client(c).AttachConsoleReady(ctx(c), name, in, c.OutOrStdout(), ready)
	if restore != nil {
		restore()
	}
	if err != nil {
		return err
	}
	if in.detached.Load() {
		fmt.Fprintf(stderr, "\ndetached from %s's console\n", name)
	}
	return nil
}

// detachReader is what the operator types, ending (EOF) at
// console.DetachSequence, which is not passed on. A Ctrl-] is held until
// the next byte says whether it begins the sequence.
type detachReader struct {
	r        io.Reader
	pending  []byte // read and filtered, not returned yet
	held     bool   // a Ctrl-] was read and not passed on yet
	detached atomic.Bool
	err      error // r's, returned once pending is
	buf      [512]byte
}

func (d *detachReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.detached.Load() {
			return 0, io.EOF
		}
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.buf[:])
		d.filter(d.buf[:n])
		if err != nil {
			if d.held { // a Ctrl-] last: the operator's, for the machine
				d.pending, d.held = append(d.pending, console.DetachSequence[0]), false
			}
			d.err = err
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// filter adds b to pending up to the DetachSequence.
func (d *detachReader) filter(b []byte) {
	for _, c := range b {
		if d.held {
			d.held = false
			if c == console.DetachSequence[1] {
				d.detached.Store(true)
				return
			}
			d.pending = append(d.pending, console.DetachSequence[0])
		}
		if c == console.DetachSequence[0] {
			d.held = true
			continue
		}
		d.pending = append(d.pending, c)
	}
}

// consoleOfStatus ends system status: the capture of the system's
// console, when the appliance captures consoles, and for a failed build
// the console lines before the failure that the appliance put in its
// history. What cannot be read is left out: the timeline is the answer.
func consoleOfStatus(c *cobra.Command, cl *api.Client, sys *registry.System) {
	w := c.OutOrStdout()
	if sys.Status == registry.StateFailed {
		if note := lastConsoleNote(c, cl, sys.Name); note != "" {
			fmt.Fprintln(w, "  console before the failure:")
			_, lines, _ := strings.Cut(note, "\n")
			for _, l := range strings.Split(strings.TrimRight(lines, "\n"), "\n") {
				fmt.Fprintln(w, "    "+keepTabs(l))
			}
		}
	}
	if v, err := cl.ConsoleLines(ctx(c), sys.Name, "", 0); err == nil {
		fmt.Fprintln(w, "  console: "+consoleStatusText(v.Status))
	}
}

// consoleNotePrefix begins the history note in which the appliance keeps
// a failed build's last console lines (op "console").
const consoleNotePrefix = "last console lines"

// lastConsoleNote is the last such note of the system's recent history,
// or "".
func lastConsoleNote(c *cobra.Command, cl *api.Client, name string) string {
	var h []registry.Change
	if err := cl.Do(ctx(c), "GET", api.Path("history")+"?limit=100&name="+url.QueryEscape(name), nil, &h); err != nil {
		return ""
	}
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Op == "console" && strings.HasPrefix(h[i].Note, consoleNotePrefix) {
			return h[i].Note
		}
	}
	return ""
}
