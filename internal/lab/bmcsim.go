package lab

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// BMCSim is one OpenIPMI ipmi_sim BMC on 127.0.0.1: its LAN channel obeys
// power commands (the "serial ... codec VM" line of its configuration),
// and power on runs a stand-in machine, a process that writes its pid to
// a file (MachinePID), which power off kills.
type BMCSim struct {
	Address  string // 127.0.0.1
	Port     int    // its UDP port
	User     string // admin
	Password string
	dir      string
	ns       []string // "ip netns exec NS" when it runs in a Net
	cmd      *exec.Cmd
}

const simEmu = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`

const simLAN = `name "bmc1"
set_working_mc 0x20
  startlan 1
    addr %s %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 %s %d codec VM
  startcmd "%s"
  startnow false
  poweroff_wait 1
  kill_wait 1
  user 2 true "admin" "%s" admin 10 none md2 md5 straight
`

// FreePort returns a port of 127.0.0.1 ("udp" or "tcp") that was free a
// moment ago.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartBMCSim runs ipmi_sim (Debian's openipmi) with user admin and
// password (at most 20 bytes) until the test ends, and waits until the
// real ipmitool gets an answer from it. The machine it powers is a
// process that sleeps.
func StartBMCSim(t testing.TB, password string) *BMCSim {
	return startBMCSim(t, nil, "127.0.0.1", password, "exec sleep 600")
}

// startBMCSim runs the simulator on addr (a loopback address) of n's
// server namespace (of this one when n is nil); power on runs the shell
// command machine, after the script wrote its pid (MachinePID).
func startBMCSim(t testing.TB, n *Net, addr, password, machine string) *BMCSim {
	t.Helper()
	bin := testenv.NeedCommand(t, "ipmi_sim")
	testenv.NeedCommand(t, "ipmitool")
	s := &BMCSim{dir: t.TempDir(), Address: addr, Port: FreePort(t, "udp"), User: "admin", Password: password}
	if n != nil {
		s.ns = []string{"ip", "netns", "exec", n.ServerNS}
	}
	port := s.Port
	script := filepath.Join(s.dir, "machine.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho $$ > "+filepath.Join(s.dir, "machine.pid")+"\n"+machine+"\n"), 0o755)
	os.WriteFile(filepath.Join(s.dir, "lan.conf"), []byte(fmt.Sprintf(simLAN, addr, port, addr, FreePort(t, "tcp"), script, password)), 0o600)
	os.WriteFile(filepath.Join(s.dir, "bmc.emu"), []byte(simEmu), 0o644)
	os.MkdirAll(filepath.Join(s.dir, "state"), 0o700)
	args := append(append([]string{}, s.ns...), bin, "-n", "-c", filepath.Join(s.dir, "lan.conf"), "-f", filepath.Join(s.dir, "bmc.emu"), "-s", filepath.Join(s.dir, "state"))
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if pid, ok := s.MachinePID(); ok {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := s.IPMItool("chassis", "power", "status"); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ipmi_sim did not answer on %s:%d", addr, port)
		}
	}
}

// IPMItool runs the real ipmitool against the simulator (the password in
// its environment) and returns what it printed.
func (s *BMCSim) IPMItool(args ...string) (string, error) {
	argv := append(append([]string{}, s.ns...), "ipmitool", "-I", "lanplus", "-H", s.Address, "-p", strconv.Itoa(s.Port),
		"-U", s.User, "-E", "-C", "3", "-N", "1", "-R", "1")
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"IPMITOOL_PASSWORD=" + s.Password, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// MachinePID returns the pid of the stand-in machine, and whether it runs.
func (s *BMCSim) MachinePID() (int, bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, "machine.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	_, err = os.Stat(fmt.Sprintf("/proc/%d", pid))
	if err != nil {
		return pid, false
	}
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return pid, !strings.Contains(string(stat), ") Z ") // a zombie is off
}

// StartBMCSimAt is StartBMCSim on another loopback address (127.x.y.z),
// so that many simulated BMCs each have an address of their own.
func StartBMCSimAt(t testing.TB, addr, password string) *BMCSim {
	return startBMCSim(t, nil, addr, password, "exec sleep 600")
}
