package lab

import "fmt"

// SimOptions are how a BMC of StartBMCSimWith differs from StartBMCSim's.
type SimOptions struct {
	// Addr is its loopback address (127.x.y.z), so that many simulated
	// BMCs each have one of their own; "": 127.0.0.1.
	Addr string
	// Port is its UDP port; 0: a free one.
	Port int
	// SOL, if set, is the TCP address (host:port) its serial-over-LAN
	// connects to, once per SOL session activated (ipmitool sol
	// activate): a listener of the caller, which plays the machine's
	// serial port, reading what an operator types and writing what the
	// machine prints. "": a BMC without SOL, which refuses to activate it.
	SOL string
	// LANProgram, if set, is ipmi_sim's lan_config_program: it runs
	// "PROGRAM get PARAMETER..." and reads "PARAMETER: value" lines, the
	// LAN configuration the BMC then reports (ipmi_sim reports zeros
	// without one).
	LANProgram string
}

// StartBMCSimWith is StartBMCSim as o says: the simulated BMC that the
// tests of package console (SOL sessions, with the test as the serial
// port) and of inventory/collect (a LAN configuration to read) need.
func (e *Env) StartBMCSimWith(password string, o SimOptions) (*BMCSim, error) {
	return e.startBMCSim(nil, password, "exec sleep 600", o)
}

// Kill ends the simulator at once, as a crash or a BMC reset would; the
// machine it powers goes on running. Calling it again does nothing.
func (s *BMCSim) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
}

// Restart runs a killed simulator again with its configuration (address,
// port, users, SOL), waits until it answers and returns the error if it
// does not. It must not run at once with Kill or Close.
func (s *BMCSim) Restart() error {
	s.Kill()
	if err := s.run(s.ctx); err != nil {
		return fmt.Errorf("lab: restarting BMC %s:%d: %w", s.Address, s.Port, err)
	}
	return nil
}
