package console

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

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
	// Ctrl-C and Ctrl-D are bytes for the machine too, not a signal or an
	// end of input for ipmitool.
	typed := E + ".\r" + E + "\x1a\r~.\r\x03\x04echo ok\r"
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
