package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	serial   int      // the TCP port of its VM interface (in-band IPMI), on Address
	sol      string   // where its SOL connects (host:port), or "": no SOL
	ns       []string // "ip netns exec NS" when it runs in a Net
	args     []string // how to run it
	ctx      context.Context
	log      io.Writer
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited

	lanProgram string // SimOptions.LANProgram
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
%s  endlan
  serial 15 %s %d codec VM
%s  startcmd "%s"
  startnow false
  poweroff_wait 1
  kill_wait 1
  user 2 true "admin" "%s" admin 10 none md2 md5 straight
`

// FreePort returns a port of 127.0.0.1 ("udp" or "tcp") that was free a
// moment ago.
func FreePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("lab: %w", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("lab: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartBMCSim runs ipmi_sim (Debian's openipmi) with user admin and
// password (at most 20 bytes) until Close, and waits until the real
// ipmitool gets an answer from it. The machine it powers is a process
// that sleeps.
func (e *Env) StartBMCSim(password string) (*BMCSim, error) {
	return e.StartBMCSimWith(password, SimOptions{})
}

// StartBMCSimAt is StartBMCSim on another loopback address (127.x.y.z),
// so that many simulated BMCs each have an address of their own.
func (e *Env) StartBMCSimAt(addr, password string) (*BMCSim, error) {
	return e.StartBMCSimWith(password, SimOptions{Addr: addr})
}

// startBMCSim runs the simulator as o says in n's server namespace (in
// this one when n is nil); power on runs the shell command machine,
// after the script wrote its pid (MachinePID). A free port that another
// process took before ipmi_sim bound it is replaced, twice at most.
func (e *Env) startBMCSim(n *Net, password, machine string, o SimOptions) (*BMCSim, error) {
	bin, err := needCommand("ipmi_sim", "openipmi")
	if err == nil {
		_, err = needCommand("ipmitool", "ipmitool")
	}
	if err != nil {
		return nil, err
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1"
	}
	s := &BMCSim{Address: o.Addr, User: "admin", Password: password, sol: o.SOL, lanProgram: o.LANProgram, ctx: e.ctx, log: e.log}
	if n != nil {
		s.ns = []string{"ip", "netns", "exec", n.ServerNS}
	}
	for try := 0; ; try++ {
		s.Port = o.Port
		if err := e.writeSimConfig(s, machine); err != nil {
			return nil, err
		}
		s.args = append(append([]string{}, s.ns...), bin, "-n", "-c", filepath.Join(s.dir, "lan.conf"), "-f", filepath.Join(s.dir, "bmc.emu"), "-s", filepath.Join(s.dir, "state"))
		err := s.run(s.ctx)
		if err == nil {
			e.Defer(s.stop)
			return s, nil
		}
		if !errors.Is(err, errSimExited) || o.Port != 0 || try == 2 {
			return nil, err
		}
	}
}

// errSimExited: ipmi_sim ended before it answered (its UDP port taken).
var errSimExited = errors.New("ipmi_sim exited")

// run starts ipmi_sim and waits until it answers.
func (s *BMCSim) run(ctx context.Context) error {
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.WaitDelay = time.Second // the machine it started may hold the output pipe
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	err := s.waitReady(ctx)
	if err != nil {
		cmd.Process.Kill()
		<-exited
	}
	return err
}

// writeSimConfig gives s a directory, a port and the simulator's files.
func (e *Env) writeSimConfig(s *BMCSim, machine string) error {
	var err error
	if s.dir == "" {
		if s.dir, err = e.TempDir(); err != nil {
			return err
		}
	}
	dir := s.dir
	if s.Port == 0 {
		if s.Port, err = FreePort("udp"); err != nil {
			return err
		}
	}
	if s.serial, err = FreePort("tcp"); err != nil {
		return err
	}
	serial := s.serial
	sol := ""
	if s.sol != "" {
		sol = fmt.Sprintf("  sol \"tcp:%s\" 115200\n", s.sol)
	}
	lanProgram := ""
	if s.lanProgram != "" {
		lanProgram = fmt.Sprintf("    lan_config_program \"%s\"\n", s.lanProgram)
	}
	script := filepath.Join(dir, "machine.sh")
	for _, f := range []struct {
		name string
		data string
		mode os.FileMode
	}{
		{"machine.sh", "#!/bin/sh\necho $$ > " + filepath.Join(dir, "machine.pid") + "\n" + machine + "\n", 0o755},
		{"lan.conf", fmt.Sprintf(simLAN, s.Address, s.Port, lanProgram, s.Address, serial, sol, script, s.Password), 0o600},
		{"bmc.emu", simEmu, 0o644},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// waitReady polls the simulator with ipmitool for up to 10 s.
func (s *BMCSim) waitReady(ctx context.Context) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := s.IPMItool("chassis", "power", "status"); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: ipmi_sim did not answer on %s:%d", s.Address, s.Port)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: waiting for ipmi_sim: %w", ctx.Err())
		case <-s.exited:
			return fmt.Errorf("lab: BMC %s:%d: %w", s.Address, s.Port, errSimExited)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop kills the simulator and the machine it powers.
func (s *BMCSim) stop() {
	s.Kill()
	if pid, ok := s.MachinePID(); ok {
		syscall.Kill(pid, syscall.SIGKILL)
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
