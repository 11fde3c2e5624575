package lab

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/console"
)

// TestBMCSimSOL: a simulated BMC whose SOL reaches the test's serial
// port carries a line to package console's Manager (the real ipmitool's
// sol activate), and answers again after Kill and Restart.
func TestBMCSimSOL(t *testing.T) {
	serial, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer serial.Close()
	s, err := testEnv(t).StartBMCSimWith("pw-sol", SimOptions{SOL: serial.Addr().String()})
	check(t, err)
	m := console.NewManager(console.ManagerConfig{Dir: t.TempDir(), MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second})
	defer m.Close()
	if err := m.Capture("sim", console.BMC{Address: s.Address, Port: s.Port, User: s.User, Password: s.Password}); err != nil {
		t.Fatal(err)
	}
	serial.(*net.TCPListener).SetDeadline(time.Now().Add(15 * time.Second))
	c, err := serial.Accept()
	if err != nil {
		t.Fatalf("the BMC's SOL did not connect to the serial port: %v", err)
	}
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if st, err := m.Status("sim"); err == nil && st.State == console.StateOpen {
			break // bytes before ipmitool's session is up are lost
		}
		if time.Now().After(deadline) {
			t.Fatal("the SOL session did not open")
		}
	}
	c.Write([]byte("from the serial port\r\n"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		lines, err := m.Lines("sim", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > 0 && string(lines[len(lines)-1].Text) == "from the serial port" {
			break
		}
		if time.Now().After(deadline) {
			st, _ := m.Status("sim")
			t.Fatalf("the line was not recorded: %q (session %+v)", lines, st)
		}
	}

	s.Kill()
	if out, err := s.IPMItool("chassis", "power", "status"); err == nil {
		t.Fatalf("a killed BMC answered: %s", out)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if out, err := s.IPMItool("chassis", "power", "status"); err != nil {
		t.Fatalf("the restarted BMC: %v: %s", err, out)
	}
}

// TestBMCSimLANProgram: the LAN configuration a BMC reports is its
// lan_config_program's.
func TestBMCSimLANProgram(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "lanconfig")
	script := "#!/bin/sh\nfor p in \"$@\"; do case $p in ip_addr) echo 'ip_addr: 10.9.8.7' ;; ip_addr_src) echo 'ip_addr_src: static' ;; esac; done\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := testEnv(t).StartBMCSimWith("pw-lan", SimOptions{LANProgram: prog})
	check(t, err)
	// ipmitool exits 1 after a parameter ipmi_sim does not support.
	if out, err := s.IPMItool("lan", "print", "1"); !strings.Contains(out, "IP Address              : 10.9.8.7") {
		t.Fatalf("lan print 1: %v\n%s", err, out)
	}
}
