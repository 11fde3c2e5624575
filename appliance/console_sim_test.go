package appliance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/console"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/lab"
	"github.com/provision/provision/registry"
)

// solSim is the lab's simulated BMC (OpenIPMI's ipmi_sim, user admin)
// with its SOL carried to a TCP port the test listens on: the test is
// the machine's serial port.
type solSim struct {
	*lab.BMCSim
	conns chan net.Conn // one per SOL session activated
}

// startSolSim runs the simulator until the test ends; a missing ipmi_sim
// or ipmitool skips the test, or fails it under CI.
func startSolSim(t *testing.T, password string) *solSim {
	t.Helper()
	serial, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serial.Close() })
	s := &solSim{conns: make(chan net.Conn, 8)}
	go func() {
		for {
			c, err := serial.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			s.conns <- c
		}
	}()
	env, err := lab.New(context.Background(), lab.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	s.BMCSim, err = env.StartBMCSimWith(password, lab.SimOptions{SOL: serial.Addr().String()})
	var missing *lab.MissingError
	if errors.As(err, &missing) {
		testenv.Missing(t, missing.Error())
	} else if err != nil {
		t.Fatal(err)
	}
	return s
}

// machine waits for the simulator to connect the serial port (a SOL
// session was activated).
func (s *solSim) machine(t *testing.T) net.Conn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("no SOL session reached the machine's serial port within 30s")
		return nil
	}
}

// The capture with the real console.Manager, ipmitool and ipmi_sim: a
// pending build's console is captured as soon as Run starts, what the
// machine prints reaches a follower and the Ring, what an attached
// operator types reaches the machine, the failed build's last line goes
// on its timeline, and Run's end stops the session.
func TestConsoleRealSOL(t *testing.T) {
	sim := startSolSim(t, "solpw")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, events := consoleRegistry(t)
	sys, _ := reg.Snapshot().SystemByName("web01")
	e := sys.Clone()
	e.BMC = &registry.BMC{Address: sim.Address, Port: sim.Port, User: sim.User, Password: registry.Secret(sim.Password)}
	if _, err := reg.EditSystem(ctx, "web01", e); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := console.NewManager(console.ManagerConfig{Dir: dir, Log: log, MinBackoff: 200 * time.Millisecond})
	c := newConsoles(mgr, reg, events, log)
	timeline, stopTimeline := events.Follow()
	defer stopTimeline()
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()

	follow, err := c.Follow(ctx, "web01")
	if err != nil {
		t.Fatal(err)
	}
	serial := sim.machine(t)
	waitFor(t, "the follower subscribed", func() bool { st, _ := c.Status("web01"); return st.Followers == 1 && st.State == "open" })
	start := time.Now()
	fmt.Fprintf(serial, "Booting the installer\r\n\x1b[1mKernel panic - not syncing: no root\x1b[0m\r\n")
	var got strings.Builder
	for !strings.Contains(got.String(), "no root") {
		got.WriteString(receive(t, follow))
	}
	t.Logf("serial to follower: %v", time.Since(start))

	in, typed := io.Pipe()
	attached := make(chan error, 1)
	go func() { attached <- c.Attach(ctx, "web01", in, io.Discard) }()
	waitFor(t, "the operator attached", func() bool { st, _ := c.Status("web01"); return st.Attached })
	io.WriteString(typed, "root\r")
	line, err := bufio.NewReader(serial).ReadString('\r')
	if err != nil || line != "root\r" {
		t.Fatalf("the machine read %q, %v; want what the operator typed", line, err)
	}
	typed.Close()
	if err := <-attached; err != nil {
		t.Fatalf("Attach: %v", err)
	}

	if _, err := reg.AbortBuild(ctx, "web01"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		select {
		case ev := <-timeline:
			found = ev.Kind == "console" && ev.System == "web01"
			if found && ev.Detail != "Kernel panic - not syncing: no root" {
				t.Errorf("the failed build's console event says %q", ev.Detail)
			}
		case <-deadline:
			t.Fatal("no console event on web01's timeline after its build failed")
		}
	}
	lines, err := c.Lines("web01", time.Time{})
	if err != nil || len(lines) < 2 || console.Clean(lines[0].Text) != "Booting the installer" {
		t.Errorf("web01's Ring: %d lines, %v", len(lines), err)
	}

	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := len(mgr.Sessions()); n != 0 {
		t.Errorf("%d sessions left after Run", n)
	}
	if st, ok := c.Status("web01"); !ok || st.Capturing {
		t.Errorf("after Run: %+v, %v", st, ok)
	}
}
