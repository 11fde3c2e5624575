package console

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

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

// TestLinesUncaptured: a system never captured has no lines, and reading
// them creates no files; a captured one's lines stay readable after Stop.
func TestLinesUncaptured(t *testing.T) {
	m := NewManager(ManagerConfig{Dir: t.TempDir(), Ipmitool: filepath.Join(t.TempDir(), "no-ipmitool")})
	if lines, err := m.Lines("never", time.Time{}); err != nil || len(lines) != 0 {
		t.Errorf("Lines(never) = %v, %v", lines, err)
	}
	if _, err := m.Lines("../etc/passwd", time.Time{}); !errors.Is(err, ErrSystemName) {
		t.Errorf("Lines(../etc/passwd): %v, want ErrSystemName", err)
	}
	if err := m.Capture("web006", BMC{Address: "127.0.0.1", Port: 9}); err != nil {
		t.Fatal(err)
	}
	m.sessions["web006"].record([]byte("kernel panic\n"))
	m.Stop("web006")
	lines, err := m.Lines("web006", time.Time{})
	if err != nil || len(lines) != 1 || string(lines[0].Text) != "kernel panic" {
		t.Errorf("Lines(web006) after Stop = %v, %v", lines, err)
	}
	if entries, _ := os.ReadDir(m.cfg.Dir); len(entries) == 0 || slices.ContainsFunc(entries, func(e os.DirEntry) bool { return strings.HasPrefix(e.Name(), "never") }) {
		t.Errorf("files: %v", entries)
	}
}
