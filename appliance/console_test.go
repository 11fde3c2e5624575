package appliance

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/registry"
)

// status is system's console status, failing the test when ok differs.
func status(t *testing.T, c *consoles, system string, wantOK bool) string {
	t.Helper()
	st, ok := c.Status(system)
	if ok != wantOK {
		t.Fatalf("Status(%s): ok %v, want %v (%+v)", system, ok, wantOK, st)
	}
	return strings.Join(strings.Fields(strings.Join([]string{boolWord(st.Capturing, "capturing"), strings.Join(st.Why, ","), st.State, st.LastError}, " ")), " ")
}

// stopsAfter moves c's clock to a second before d has passed, then to
// d, reconciling each time: the Manager must be told nothing the first
// time and to stop system's console the second; what names d in errors.
func stopsAfter(t *testing.T, c *consoles, fake *fakeConsoles, advance func(time.Duration), d time.Duration, system, what string) {
	t.Helper()
	ctx := context.Background()
	advance(d - time.Second)
	c.reconcile(ctx)
	if got := fake.took(); got != "" {
		t.Errorf("a second before the end of %s: %q, want nothing", what, got)
	}
	advance(time.Second)
	c.reconcile(ctx)
	if got, want := fake.took(), "stop "+system; got != want {
		t.Errorf("at the end of %s: %q, want %q", what, got, want)
	}
}

func boolWord(b bool, word string) string {
	if b {
		return word
	}
	return "idle"
}

// The capture policy through a build: pending and installing are
// captured (the Redfish and BMC-less systems not, the Redfish one saying
// why), installed keeps the console for the linger and then stops it.
func TestConsoleBuildLinger(t *testing.T) {
	ctx := context.Background()
	c, fake, advance := testConsoles(t)
	c.reconcile(ctx)
	if got, want := fake.took(), "capture web01 10.0.1.1 pw1"; got != want {
		t.Fatalf("first reconcile: %q, want %q", got, want)
	}
	for system, want := range map[string]string{"web01": "capturing pending open", "rf01": "idle pending unsupported SOL needs IPMI; system rf01's BMC is Redfish"} {
		if got := status(t, c, system, true); got != want {
			t.Errorf("%s: %q, want %q", system, got, want)
		}
	}
	for _, system := range []string{"plain01", "db01", "nosuch"} {
		status(t, c, system, false)
	}

	sys, _ := c.reg.Snapshot().SystemByName("web01")
	if _, err := c.reg.BuildStarted(ctx, string(sys.BuildToken), ""); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	if got := fake.took(); got != "" {
		t.Errorf("pending to installing called the Manager: %q", got)
	}
	if got, want := status(t, c, "web01", true), "capturing installing open"; got != want {
		t.Errorf("installing: %q, want %q", got, want)
	}

	if _, err := c.reg.BuildDone(ctx, string(sys.BuildToken), ""); err != nil {
		t.Fatal(err)
	}
	next := c.reconcile(ctx)
	if want := c.now().Add(consoleLinger); !next.Equal(want) {
		t.Errorf("installed: next reconcile at %v, want the linger's end %v", next, want)
	}
	stopsAfter(t, c, fake, advance, consoleLinger, "web01", "the linger")
	if got, want := status(t, c, "web01", true), "idle stopped"; got != want {
		t.Errorf("stopped: %q, want %q", got, want)
	}
}

// A build that fails while captured puts its last console lines (cleaned,
// at most 20, the blank ones at the end left out) in the system's history
// and its last line on its timeline; one failing without a console notes
// nothing.
func TestConsoleFailedBuildNote(t *testing.T) {
	ctx := context.Background()
	c, fake, _ := testConsoles(t)
	evs, stop := c.events.Follow()
	defer stop()
	c.reconcile(ctx)
	var text strings.Builder
	for i := 1; i <= 25; i++ {
		text.WriteString("line " + strings.Repeat("x", i/25*300) + string(rune('a'+i-1)) + "\n")
	}
	text.WriteString("\x1b[31mKernel panic - not syncing: VFS\x1b[0m\r\n   \n\n")
	fake.feed("web01", text.String())
	for _, name := range []string{"web01", "rf01"} {
		if _, err := c.reg.AbortBuild(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	c.settle = time.Second
	c.reconcile(ctx)
	time.Sleep(10 * time.Millisecond)
	fake.feed("web01", "/ # \n") // after the failure (the installer's shell): not in the note
	c.notes.Wait()

	hist, err := c.reg.History(ctx, "web01", 10)
	if err != nil {
		t.Fatal(err)
	}
	var note string
	for _, h := range hist {
		if h.Op == "console" {
			note = h.Note
		}
	}
	lines := strings.Split(note, "\n")
	if len(lines) != 21 || lines[0] != "last console lines before the build failed:" || lines[1] != "line g" ||
		lines[20] != "Kernel panic - not syncing: VFS" || !strings.HasSuffix(lines[19], "…") || len([]rune(lines[19])) != consoleNoteRunes {
		t.Fatalf("web01's history note (%d lines):\n%s", len(lines), note)
	}
	select {
	case e := <-evs:
		if e.System != "web01" || e.Kind != "console" || e.Detail != "Kernel panic - not syncing: VFS" {
			t.Errorf("timeline event %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no console event on web01's timeline")
	}
	hist, _ = c.reg.History(ctx, "rf01", 10)
	for _, h := range hist {
		if h.Op == "console" {
			t.Errorf("rf01 has no console, yet a note: %q", h.Note)
		}
	}
}

// An inspection and an operator's ask capture a system that is not
// building; off ends the operator's ask (an inspection lingers), not another
// reason; a removed system is stopped at once; new BMC settings are
// given to the Manager; the asks of a system without a usable BMC fail
// naming it.
func TestConsoleAsksAndChanges(t *testing.T) {
	ctx := context.Background()
	c, fake, advance := testConsoles(t)
	c.reconcile(ctx)
	fake.took()

	if _, err := c.reg.StartInspect(ctx, "db01"); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	if err := c.Capture(ctx, "db01", true); err != nil {
		t.Fatal(err)
	}
	if got, want := status(t, c, "db01", true), "capturing inspecting,operator open"; got != want {
		t.Errorf("inspected and asked: %q, want %q", got, want)
	}
	if err := c.Capture(ctx, "db01", false); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	if got, want := status(t, c, "db01", true), "capturing inspecting open"; got != want {
		t.Errorf("the operator's ask off, inspecting: %q, want %q", got, want)
	}

	edited, _ := c.reg.Snapshot().SystemByName("db01")
	e := edited.Clone()
	e.BMC = &registry.BMC{Address: "10.0.9.2", User: "admin", Password: "new"}
	if _, err := c.reg.EditSystem(ctx, "db01", e); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	if got, want := fake.took(), "capture db01 10.0.1.2 pw2; capture db01 10.0.9.2 new"; got != want {
		t.Errorf("inspect, then a new BMC: %q, want %q", got, want)
	}

	if err := c.Capture(ctx, "web01", true); err != nil { // pending too
		t.Fatal(err)
	}
	if err := c.reg.RemoveSystem(ctx, "web01"); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	if got, want := fake.took(), "stop web01"; got != want {
		t.Errorf("a removed system: %q, want %q", got, want)
	}

	for system, want := range map[string]error{"nosuch": registry.ErrNotFound, "plain01": registry.ErrInvalid, "rf01": registry.ErrInvalid} {
		for what, err := range map[string]error{"Capture": c.Capture(ctx, system, true), "Attach": c.Attach(ctx, system, strings.NewReader(""), io.Discard)} {
			var re *registry.Error
			if !errors.As(err, &re) || !errors.Is(err, want) || !strings.Contains(err.Error(), system) {
				t.Errorf("%s(%s): %v, want a %v error naming it", what, system, err, want)
			}
		}
	}
	if got := fake.took(); got != "" {
		t.Errorf("refused asks called the Manager: %q", got)
	}
	advance(time.Hour)
	c.reconcile(ctx)
	if got := fake.took(); got != "" {
		t.Errorf("db01 is still inspected, yet: %q", got)
	}
}

// Attach captures a system no build asks for while the operator is
// attached (reason "attached"), then the linger; Follow's channel
// outlives the sessions (it carries the next one's bytes) and closes
// when its context ends, or for every follower when Run ends; after Run
// nothing is captured.
func TestConsoleAttachFollowRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, fake, _ := testConsoles(t)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()

	follow, stopFollow := context.WithCancel(ctx)
	ch, err := c.Follow(follow, "db01")
	if err != nil {
		t.Fatal(err)
	}
	forever, err := c.Follow(ctx, "db01")
	if err != nil {
		t.Fatal(err)
	}
	in, typed := io.Pipe()
	attached := make(chan error, 1)
	go func() { attached <- c.Attach(ctx, "db01", in, io.Discard) }()
	<-fake.attached
	if got, want := status(t, c, "db01", true), "capturing attached open"; got != want {
		t.Errorf("attached: %q, want %q", got, want)
	}
	waitFor(t, "both followers on the first session", func() bool { return fake.followers("db01") == 2 })
	fake.feed("db01", "login: ")
	for _, ch := range []<-chan []byte{ch, forever} {
		if got := receive(t, ch); got != "login: " {
			t.Errorf("first session: %q", got)
		}
	}
	typed.Close()
	if err := <-attached; err != nil {
		t.Fatalf("Attach: %v", err)
	}
	// No linger after an operator's capture: it ends when they leave.
	waitFor(t, "db01 stopped when the operator left", func() bool { return strings.Contains(fake.took(), "stop db01") })

	if err := c.Capture(ctx, "db01", true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both followers on the second session", func() bool { return fake.followers("db01") == 2 })
	fake.feed("db01", "second\n")
	for _, ch := range []<-chan []byte{ch, forever} {
		if got := receive(t, ch); got != "second\n" {
			t.Errorf("a follower of the first session got %q of the second", got)
		}
	}
	stopFollow()
	if _, open := <-ch; open {
		t.Errorf("Follow's channel is open after its context ended")
	}

	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, open := <-forever; open {
		t.Errorf("Follow's channel is open after Run ended")
	}
	if !fake.closed || len(fake.Sessions()) != 0 {
		t.Errorf("Run ended with sessions left: %v", fake.Sessions())
	}
	if err := c.Capture(context.Background(), "db01", true); !errors.Is(err, errConsoleStopping) {
		t.Errorf("Capture after Run: %v", err)
	}
}

// receive is the next chunk of ch, or fails the test.
func receive(t *testing.T, ch <-chan []byte) string {
	t.Helper()
	select {
	case p := <-ch:
		return string(p)
	case <-time.After(10 * time.Second):
		t.Fatal("nothing on the console's channel")
	}
	return ""
}

// waitFor polls cond until it holds, or fails the test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// --console-sessions: a number or off; off (or 0) leaves the API no
// Console (its routes answer 501), not a nil *consoles in an interface.
func TestConsoleSessionsConfig(t *testing.T) {
	for value, want := range map[string]int{"256": 256, "0": 0, "off": 0, "1": 1, "-1": -1, "many": -1, "10001": -1} {
		cfg := Defaults(true)
		cfg.Data = t.TempDir()
		cfg.ConsoleSessions = value
		err := cfg.Complete()
		n, _ := cfg.consoleSessions()
		if want < 0 {
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--console-sessions") {
				t.Errorf("%q: %v, want a configuration error naming the flag", value, err)
			}
			continue
		}
		if err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", value, n, err, want)
		}
	}
	for dev, want := range map[bool]string{false: "256", true: "off"} {
		cfg := Defaults(dev)
		cfg.Data, cfg.Address = t.TempDir(), "127.0.0.1"
		if cfg.Complete(); cfg.ConsoleSessions != want || cfg.ConsoleDir != cfg.Data+"/console" {
			t.Errorf("defaults (dev %v): %q sessions in %q, want %q", dev, cfg.ConsoleSessions, cfg.ConsoleDir, want)
		}
	}
	if (&Appliance{}).consoleAPI() != nil {
		t.Error("with the capture off the API's Console is not nil")
	}
}

// /metrics: the sessions by state (every state, 0 included, no
// per-system series) and the reconnects of stopped sessions kept in the
// total.
func TestConsoleMetrics(t *testing.T) {
	ctx := context.Background()
	c, _, _ := testConsoles(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(consoleMetrics{c})
	c.reconcile(ctx) // web01 (fake: open, 1 reconnect)
	c.Capture(ctx, "db01", true)
	scrape := func() map[string]float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				name := mf.GetName()
				for _, l := range m.GetLabel() {
					name += "{" + l.GetName() + "=" + l.GetValue() + "}"
				}
				out[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
		return out
	}
	got := scrape()
	if got["provision_console_sessions{state=open}"] != 2 || got["provision_console_sessions{state=retrying}"] != 0 || got["provision_console_reconnects_total"] != 2 || len(got) != 7 {
		t.Errorf("two open sessions: %v", got)
	}
	if err := c.reg.RemoveSystem(ctx, "web01"); err != nil {
		t.Fatal(err)
	}
	c.reconcile(ctx)
	got = scrape()
	if got["provision_console_sessions{state=open}"] != 1 || got["provision_console_reconnects_total"] != 2 {
		t.Errorf("one stopped: %v", got)
	}
}
