package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// newTestManager is a Manager whose sessions reopen quickly, logging to
// logs.
func newTestManager(t *testing.T, ipmitool string, logs io.Writer, minB, maxB time.Duration) *Manager {
	m := NewManager(ManagerConfig{
		Dir: t.TempDir(), Ipmitool: ipmitool, MinBackoff: minB, MaxBackoff: maxB,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	t.Cleanup(func() { m.Close() })
	return m
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

// waitState waits until system's session is in state.
func waitState(t *testing.T, m *Manager, system string, state State, within time.Duration) Status {
	t.Helper()
	var st Status
	waitFor(t, within, fmt.Sprintf("%s in state %s", system, state), func() bool {
		st, _ = m.Status(system)
		return st.State == state
	})
	return st
}

// readUntil reads a Follow channel until what it got contains want.
func readUntil(t *testing.T, ch <-chan []byte, want string, within time.Duration) string {
	t.Helper()
	var got bytes.Buffer
	timeout := time.After(within)
	for !strings.Contains(got.String(), want) {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed; got %q, want %q in it", got.String(), want)
			}
			got.Write(p)
		case <-timeout:
			t.Fatalf("got %q within %v, want %q in it", got.String(), within, want)
		}
	}
	return got.String()
}

// readSerial reads what the machine's serial port received until it
// contains want.
func readSerial(t *testing.T, c net.Conn, want string, within time.Duration) string {
	t.Helper()
	var got bytes.Buffer
	c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("serial port got %q, want %q in it: %v", got.String(), want, err)
		}
	}
	return got.String()
}

// lineTexts returns the texts of system's Ring lines.
func lineTexts(t *testing.T, m *Manager, system string) []string {
	lines, err := m.Lines(system, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, l := range lines {
		texts = append(texts, string(l.Text))
	}
	return texts
}

// TestCaptureFollow: what the machine writes on its serial port reaches
// the Ring, line by line with times, raw, and two followers at once.
func TestCaptureFollow(t *testing.T) {
	sim := startSim(t, "pw-capture", true)
	var logs testenv.Buffer
	m := newTestManager(t, "", &logs, 100*time.Millisecond, 2*time.Second)
	start := time.Now()
	if err := m.Capture("web001", sim.bmc("pw-capture")); err != nil {
		t.Fatal(err)
	}
	serial := sim.serialConn(15 * time.Second)
	waitState(t, m, "web001", StateOpen, 15*time.Second)
	f1, err := m.Follow(t.Context(), "web001")
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := m.Follow(t.Context(), "web001")
	const sent = "Linux version 6.1.0-28-amd64\r\ninstaller: \x1b[1mNo disk found\x1b[0m\r\n"
	sentAt := time.Now()
	serial.Write([]byte(sent))
	for i, f := range []<-chan []byte{f1, f2} {
		if got := readUntil(t, f, "No disk found\x1b[0m\r\n", 10*time.Second); got != sent {
			t.Errorf("follower got %q, want %q", got, sent)
		}
		if i == 0 {
			t.Logf("serial port to follower: %v", time.Since(sentAt))
		}
	}
	waitFor(t, 5*time.Second, "two lines in the ring", func() bool { return len(lineTexts(t, m, "web001")) >= 2 })
	lines, _ := m.Lines("web001", time.Time{})
	want := []string{"Linux version 6.1.0-28-amd64", "installer: \x1b[1mNo disk found\x1b[0m"}
	for i, l := range lines {
		if string(l.Text) != want[i] || l.At.Before(start) || l.At.After(time.Now()) {
			t.Errorf("line %d: %q at %v, want %q between %v and now", i, l.Text, l.At, want[i], start)
		}
	}
	if got := Clean(lines[1].Text); got != "installer: No disk found" {
		t.Errorf("Clean = %q", got)
	}
	st, _ := m.Status("web001")
	if st.Bytes != int64(len(sent)) || st.Followers != 2 || st.State != StateOpen {
		t.Errorf("status %+v: want %d bytes, 2 followers, open", st, len(sent))
	}
	m.Stop("web001")
	if _, ok := <-f1; ok {
		t.Error("follower's channel still open after Stop")
	}
	if _, err := m.Status("web001"); !errors.Is(err, ErrNotCaptured) {
		t.Errorf("Status after Stop: %v, want ErrNotCaptured", err)
	}
	if !strings.Contains(logs.String(), "SOL session open") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestAttach: what the operator types reaches the machine's serial port
// byte for byte (ipmitool's escape character and ~. included, and the
// session survives them), the machine's answer reaches the operator,
// and a second operator is refused while the first is attached.
func TestAttach(t *testing.T) {
	sim := startSim(t, "pw-attach", true)
	m := newTestManager(t, "", io.Discard, 100*time.Millisecond, 2*time.Second)
	m.Capture("web002", sim.bmc("pw-attach"))
	serial := sim.serialConn(15 * time.Second)
	waitState(t, m, "web002", StateOpen, 15*time.Second)

	in, typing := io.Pipe()
	var out testenv.Buffer
	done := make(chan error, 1)
	go func() { done <- m.Attach(t.Context(), "web002", in, &out) }()
	waitFor(t, 5*time.Second, "attached", func() bool { st, _ := m.Status("web002"); return st.Attached })

	err := m.Attach(t.Context(), "web002", strings.NewReader("x"), io.Discard)
	if !errors.Is(err, ErrAttached) || !strings.Contains(err.Error(), "web002") {
		t.Errorf("second Attach: %v, want ErrAttached naming web002", err)
	}

	E := string(rune(EscapeChar))
	typed := E + ".\r" + E + "\x1a\r~.\recho ok\r"
	typing.Write([]byte(typed))
	if got := readSerial(t, serial, "echo ok\r", 10*time.Second); got != typed {
		t.Errorf("serial port got %q, want %q", got, typed)
	}
	serial.Write([]byte("ok\r\n# "))
	waitFor(t, 10*time.Second, "the answer on the operator's side", func() bool { return strings.Contains(out.String(), "ok\r\n# ") })
	if st, _ := m.Status("web002"); st.State != StateOpen || st.Attempts != 1 {
		t.Errorf("after typing: %+v, want the first session still open", st)
	}

	typing.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Attach: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Attach did not return when its input ended")
	}
	if st, _ := m.Status("web002"); st.Attached {
		t.Error("still attached")
	}
}

// TestReconnectAfterBMCRestart: ipmi_sim killed and started again; the
// session comes back by itself and capture goes on.
func TestReconnectAfterBMCRestart(t *testing.T) {
	sim := startSim(t, "pw-restart", true)
	m := newTestManager(t, "", io.Discard, 200*time.Millisecond, 2*time.Second)
	m.Capture("web003", sim.bmc("pw-restart"))
	first := sim.serialConn(15 * time.Second)
	waitState(t, m, "web003", StateOpen, 15*time.Second)
	first.Write([]byte("before the restart\r\n"))
	waitFor(t, 10*time.Second, "the first line", func() bool { return len(lineTexts(t, m, "web003")) == 1 })

	killed := time.Now()
	sim.kill()
	sim.start()
	serial := sim.serialConn(15 * time.Second)
	// ipmitool notices the old session is gone by its keepalive (15 s,
	// then missed replies: about 40 s in all), then the backoff opens a
	// new one.
	waitFor(t, 90*time.Second, "a new session", func() bool {
		st, _ := m.Status("web003")
		return st.State == StateOpen && st.Attempts >= 2
	})
	t.Logf("BMC killed and restarted: session open again after %v", time.Since(killed))
	serial.Write([]byte("after the restart\r\n"))
	waitFor(t, 10*time.Second, "the second line", func() bool { return len(lineTexts(t, m, "web003")) == 2 })
	if got := lineTexts(t, m, "web003"); got[0] != "before the restart" || got[1] != "after the restart" {
		t.Errorf("lines %q", got)
	}
	if st, _ := m.Status("web003"); st.Reconnects < 1 || st.LastError == "" {
		t.Errorf("status %+v: want a reconnect and why the session ended", st)
	}
}

// TestUnsupportedAndWrongPassword: a BMC without SOL and a BMC refusing
// the password are each reported once, in Status and in one log line,
// and not retried in a loop (ipmitool's runs are counted): the first
// never again, the second only at the long end of the backoff. A
// corrected password is tried at once.
func TestUnsupportedAndWrongPassword(t *testing.T) {
	nosol := startSim(t, "pw-nosol", false)
	badpw := startSim(t, "pw-right", true)
	ipt := newCountingIpmitool(t)
	var logs testenv.Buffer
	const maxB = time.Second
	m := newTestManager(t, ipt.path, &logs, 20*time.Millisecond, maxB)
	start := time.Now()
	m.Capture("nosol", nosol.bmc("pw-nosol"))
	m.Capture("badpw", badpw.bmc("pw-wrong"))
	st := waitState(t, m, "nosol", StateUnsupported, 15*time.Second)
	if !strings.Contains(st.LastError, "does not offer serial-over-LAN") {
		t.Errorf("nosol: %q", st.LastError)
	}
	st = waitState(t, m, "badpw", StateAuthFailed, 15*time.Second)
	if !strings.Contains(st.LastError, "refused the user or password") {
		t.Errorf("badpw: %q", st.LastError)
	}
	time.Sleep(3 * maxB) // a window in which a retry loop would show
	elapsed := time.Since(start)
	port := func(s *simBMC) string { return fmt.Sprintf("-p %d ", s.port) }
	if n := len(ipt.runs(t, port(nosol))); n != 1 {
		t.Errorf("BMC without SOL: %d ipmitool runs, want 1", n)
	}
	// Wrong password: tried again only after MaxBackoff/2 at least (the
	// shortest jittered wait at the long end), never in a quick loop.
	runs := ipt.runs(t, port(badpw))
	if len(runs) < 2 {
		t.Errorf("wrong password: %d ipmitool runs in %v: want it tried again", len(runs), elapsed)
	}
	for i := 1; i < len(runs); i++ {
		if gap := runs[i].at.Sub(runs[i-1].at); gap < maxB/2-50*time.Millisecond {
			t.Errorf("wrong password: runs %d and %d only %v apart, want at least %v", i-1, i, gap, maxB/2)
		}
	}
	for _, state := range []string{"unsupported", "auth-failed"} {
		if n := strings.Count(logs.String(), "SOL session "+state); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", state, n, logs.String())
		}
	}
	m.Capture("badpw", badpw.bmc("pw-right"))
	badpw.serialConn(15 * time.Second)
	waitState(t, m, "badpw", StateOpen, 15*time.Second)
}

// TestMaxSessions: a Capture beyond MaxSessions is refused, naming the
// system; a stopped session makes room.
func TestMaxSessions(t *testing.T) {
	m := NewManager(ManagerConfig{Dir: t.TempDir(), MaxSessions: 2, Ipmitool: filepath.Join(t.TempDir(), "no-ipmitool")})
	t.Cleanup(func() { m.Close() })
	bmc := BMC{Address: "127.0.0.1", Port: 9, User: "admin", Password: "x"}
	for _, system := range []string{"a1", "a2"} {
		if err := m.Capture(system, bmc); err != nil {
			t.Fatal(err)
		}
	}
	err := m.Capture("a3", bmc)
	if !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "a3") {
		t.Errorf("third Capture: %v, want ErrTooMany naming a3", err)
	}
	if err := m.Capture("a1", bmc); err != nil {
		t.Errorf("Capture of a system already captured: %v", err)
	}
	m.Stop("a1")
	if err := m.Capture("a3", bmc); err != nil {
		t.Errorf("Capture after a Stop: %v", err)
	}
	var got []string
	for _, st := range m.Sessions() {
		got = append(got, st.System)
	}
	if strings.Join(got, " ") != "a2 a3" {
		t.Errorf("Sessions: %q", got)
	}
}

// TestNoPasswordInArgvOrLogs reads the running ipmitool's command line
// and environment in /proc, and the manager's logs.
func TestNoPasswordInArgvOrLogs(t *testing.T) {
	const password = "Zq7-secret-pw"
	sim := startSim(t, password, true)
	ipt := newCountingIpmitool(t)
	var logs testenv.Buffer
	m := newTestManager(t, ipt.path, &logs, 100*time.Millisecond, 2*time.Second)
	m.Capture("web004", sim.bmc(password))
	sim.serialConn(15 * time.Second)
	waitState(t, m, "web004", StateOpen, 15*time.Second)
	runs := ipt.runs(t, "sol activate")
	if len(runs) != 1 {
		t.Fatalf("sol activate runs: %v", runs)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", runs[0].pid))
	if err != nil {
		t.Fatal(err)
	}
	environ, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", runs[0].pid))
	if bytes.Contains(cmdline, []byte(password)) || !bytes.Contains(cmdline, []byte("sol\x00activate")) {
		t.Errorf("ipmitool's command line: %q", cmdline)
	}
	if !bytes.Contains(environ, []byte("IPMI_PASSWORD="+password)) {
		t.Error("the password is not in ipmitool's environment: how did it log in?")
	}
	m.Capture("web004", sim.bmc("another-wrong-one")) // logs nothing either
	m.Stop("web004")
	if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), "wrong-one") || !strings.Contains(logs.String(), "admin@127.0.0.1") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// TestSlowFollower: a reader that does not read neither blocks the
// session nor the other readers; bytes are dropped for it and it is
// told how many.
func TestSlowFollower(t *testing.T) {
	m := NewManager(ManagerConfig{Dir: t.TempDir(), Ipmitool: filepath.Join(t.TempDir(), "no-ipmitool")})
	ring, err := OpenRing(m.cfg.Dir, "web005", 0)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession("web005", BMC{}, ring, m)
	m.sessions["web005"] = s
	close(s.loopDone) // no loop: the test records by hand
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	slow, _ := m.Follow(ctx, "web005")
	fast, _ := m.Follow(ctx, "web005")
	var dropped int64
	for i := range followBuffer + 44 {
		line := fmt.Sprintf("line %03d\n", i)
		s.record([]byte(line))
		if got := string(<-fast); got != line {
			t.Fatalf("fast reader got %q, want %q", got, line)
		}
		if i >= followBuffer {
			dropped += int64(len(line))
		}
	}
	for range followBuffer {
		<-slow
	}
	s.record([]byte("last\n"))
	want := fmt.Sprintf("\r\n[console: %d bytes dropped: this reader fell behind]\r\n", dropped)
	if got := string(<-slow); got != want {
		t.Errorf("slow reader got %q, want %q", got, want)
	}
	if got := string(<-slow); got != "last\n" {
		t.Errorf("slow reader got %q after the notice", got)
	}
	if st, _ := m.Status("web005"); st.Dropped != dropped {
		t.Errorf("Dropped = %d, want %d", st.Dropped, dropped)
	}
	m.Stop("web005")
	if got := string(<-fast); got != "last\n" {
		t.Errorf("fast reader got %q", got)
	}
	if _, ok := <-fast; ok {
		t.Error("channel open after Stop")
	}
}
