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
    addr 127.0.0.1 %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 127.0.0.1 %d codec VM
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
// real ipmitool gets an answer from it.
func StartBMCSim(t testing.TB, password string) *BMCSim {
	t.Helper()
	bin := testenv.NeedCommand(t, "ipmi_sim")
	testenv.NeedCommand(t, "ipmitool")
	s := &BMCSim{dir: t.TempDir(), Address: "127.0.0.1", Port: FreePort(t, "udp"), User: "admin", Password: password}
	port := s.Port
	machine := filepath.Join(s.dir, "machine.sh")
	os.WriteFile(machine, []byte("#!/bin/sh\necho $$ > "+filepath.Join(s.dir, "machine.pid")+"\nexec sleep 600\n"), 0o755)
	os.WriteFile(filepath.Join(s.dir, "lan.conf"), []byte(fmt.Sprintf(simLAN, port, FreePort(t, "tcp"), machine, password)), 0o600)
	os.WriteFile(filepath.Join(s.dir, "bmc.emu"), []byte(simEmu), 0o644)
	os.MkdirAll(filepath.Join(s.dir, "state"), 0o700)
	s.cmd = exec.Command(bin, "-n", "-c", filepath.Join(s.dir, "lan.conf"), "-f", filepath.Join(s.dir, "bmc.emu"), "-s", filepath.Join(s.dir, "state"))
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
			t.Fatalf("ipmi_sim did not answer on 127.0.0.1:%d", port)
		}
	}
}

// IPMItool runs the real ipmitool against the simulator (the password in
// its environment) and returns what it printed.
func (s *BMCSim) IPMItool(args ...string) (string, error) {
	cmd := exec.Command("ipmitool", append([]string{"-I", "lanplus", "-H", s.Address, "-p", strconv.Itoa(s.Port),
		"-U", s.User, "-E", "-C", "3", "-N", "1", "-R", "1"}, args...)...)
	cmd.Env = []string{"IPMITOOL_PASSWORD=" + s.Password}
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
