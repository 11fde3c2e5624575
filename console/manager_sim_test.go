package console

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// simBMC is OpenIPMI's ipmi_sim on 127.0.0.1 (user admin), with SOL
// carried to a TCP port the test listens on: the test plays the
// machine's serial port.
type simBMC struct {
	t        *testing.T
	dir      string
	port     int           // its UDP port
	password string        // the one it accepts
	serial   net.Listener  // the machine's serial port
	conns    chan net.Conn // ipmi_sim's connections to it, one per SOL activation
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	mu       sync.Mutex
	opened   []net.Conn // closed at the end of the test
}

const simEmuSOL = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
`

// simLANSOL is the LAN configuration: UDP address and port, then the SOL
// line (or none), then the password.
const simLANSOL = `name "sol"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
%s
  user 2 true "admin" "%s" admin 10 none md2 md5 straight
`

// startSim runs ipmi_sim until the test ends; withSOL false leaves the
// SOL line out (a BMC without SOL).
func startSim(t *testing.T, password string, withSOL bool) *simBMC {
	t.Helper()
	testenv.NeedCommand(t, "ipmi_sim")
	testenv.NeedCommand(t, "ipmitool")
	s := &simBMC{t: t, dir: t.TempDir(), password: password, conns: make(chan net.Conn, 8)}
	var err error
	if s.serial, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.closeSerial)
	go s.accept()
	sol := ""
	if withSOL {
		sol = fmt.Sprintf(`  sol "tcp:%s" 115200`, s.serial.Addr())
	}
	s.write("bmc.emu", simEmuSOL)
	// The free port may be taken before ipmi_sim binds it (by another
	// ipmitool's ephemeral port): then another one.
	for try := 0; ; try++ {
		s.port = freeUDPPort(t)
		s.write("lan.conf", fmt.Sprintf(simLANSOL, s.port, sol, password))
		if out, err := s.tryStart(); err == nil {
			break
		} else if try == 2 || !strings.Contains(out, "Address already in use") {
			t.Fatalf("%v; it printed:\n%s", err, out)
		}
	}
	t.Cleanup(s.kill)
	return s
}

func (s *simBMC) write(name, data string) {
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(data), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// start runs ipmi_sim and waits until the real ipmitool gets an answer.
func (s *simBMC) start() {
	s.t.Helper()
	if out, err := s.tryStart(); err != nil {
		s.t.Fatalf("%v; it printed:\n%s", err, out)
	}
}

// tryStart is start, returning why it failed and what ipmi_sim printed.
func (s *simBMC) tryStart() (string, error) {
	state := filepath.Join(s.dir, "state")
	os.MkdirAll(state, 0o700)
	cmd := exec.Command("ipmi_sim", "-n", "-c", filepath.Join(s.dir, "lan.conf"), "-f", filepath.Join(s.dir, "bmc.emu"), "-s", state)
	out := &testenv.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if (tool{}).command(s.t.Context(), s.bmc(s.password), "mc", "info").Run() == nil {
			return "", nil
		}
		select {
		case <-exited:
			return out.String(), fmt.Errorf("ipmi_sim on 127.0.0.1:%d exited", s.port)
		default:
		}
		if time.Now().After(deadline) {
			return out.String(), fmt.Errorf("ipmi_sim did not answer on 127.0.0.1:%d", s.port)
		}
	}
}

// kill ends ipmi_sim at once, as a crash would.
func (s *simBMC) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// bmc is how to reach the simulator with a password.
func (s *simBMC) bmc(password string) BMC {
	return BMC{Address: "127.0.0.1", Port: s.port, User: "admin", Password: password}
}

func (s *simBMC) accept() {
	for {
		c, err := s.serial.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.opened = append(s.opened, c)
		s.mu.Unlock()
		s.conns <- c
	}
}

func (s *simBMC) closeSerial() {
	s.serial.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.opened {
		c.Close()
	}
}

// serialConn waits for ipmi_sim to connect to the serial port (it does
// when a SOL session is activated).
func (s *simBMC) serialConn(within time.Duration) net.Conn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(within):
		s.t.Fatalf("ipmi_sim did not connect to the serial port within %v", within)
		return nil
	}
}

func freeUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// countingIpmitool is a wrapper of the real ipmitool that logs each run
// (its pid, the time, then its arguments) to a file; exec keeps the pid,
// so /proc/PID is the real ipmitool's.
type countingIpmitool struct {
	path, log string
}

func newCountingIpmitool(t *testing.T) countingIpmitool {
	real := testenv.NeedCommand(t, "ipmitool")
	dir := t.TempDir()
	c := countingIpmitool{path: filepath.Join(dir, "ipmitool"), log: filepath.Join(dir, "runs")}
	script := fmt.Sprintf("#!/bin/sh\necho \"$$ $(date +%%s.%%N) $*\" >> %s\nexec %s \"$@\"\n", c.log, real)
	if err := os.WriteFile(c.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

// ipmitoolRun is one run of ipmitool.
type ipmitoolRun struct {
	pid int
	at  time.Time
}

// runs returns the runs whose arguments contain verb ("sol activate").
func (c countingIpmitool) runs(t *testing.T, verb string) []ipmitoolRun {
	b, err := os.ReadFile(c.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var runs []ipmitoolRun
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, " ", 3)
		if len(f) < 3 || !strings.Contains(f[2], verb) {
			continue
		}
		pid, err1 := strconv.Atoi(f[0])
		sec, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("runs: %q", line)
		}
		runs = append(runs, ipmitoolRun{pid, time.Unix(0, int64(sec*1e9))})
	}
	return runs
}
