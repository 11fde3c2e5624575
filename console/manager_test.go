package console

import (
	"bytes"
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
