package console

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

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
