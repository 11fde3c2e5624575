package console

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
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
