package slapdtest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// launch starts slapd on two free ports and waits until both accept
// connections. A port taken between choosing it and slapd's bind makes
// slapd exit: then it tries again with new ports.
func (s *Server) launch(t testing.TB, bin, conf string) {
	t.Helper()
	var err error
	for range 3 {
		if err = s.try(bin, conf); err == nil {
			return
		}
	}
	t.Fatalf("slapdtest: %v", err)
}

func (s *Server) try(bin, conf string) error {
	plain, secure, err := freePort(), freePort(), error(nil)
	s.LDAPURL = "ldap://127.0.0.1:" + strconv.Itoa(plain)
	s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(secure)
	s.cmd = exec.Command(bin, "-d", "0", "-h", s.LDAPURL+"/ "+s.LDAPSURL+"/", "-f", conf)
	s.cmd.Stdout, s.cmd.Stderr = &s.stderr, &s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err = s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	return s.ready(plain, secure)
}

// ready waits until slapd accepts connections on both ports, or exits,
// or 20 s pass.
func (s *Server) ready(ports ...int) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for !accepts(ports) {
		select {
		case <-s.exited:
			return fmt.Errorf("slapd exited (%v): %s", s.cmd.ProcessState, strings.TrimSpace(s.stderr.String()))
		case <-deadline:
			s.halt()
			return fmt.Errorf("slapd did not accept connections on %v within 20 s: %s", ports, s.stderr.String())
		case <-tick.C:
		}
	}
	return nil
}

func accepts(ports []int) bool {
	for _, p := range ports {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

// Stop stops slapd and waits for it to exit: its ports then refuse
// connections. Stopping twice is stopping once.
func (s *Server) Stop() {
	s.stop.Do(s.halt)
}

func (s *Server) halt() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// freePort is a TCP port of 127.0.0.1 nobody listened on a moment ago.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
