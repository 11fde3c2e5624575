package lab

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// proxyInBand joins QEMU's in-band IPMI chardev, a client of the Unix
// socket path, to the VM interface of bmc (its "serial ... codec VM"
// line), a TCP port of the Net's server namespace that QEMU, in the
// bridge namespace, cannot reach itself. Each power-on's connection is
// carried until either side closes it.
func (e *Env) proxyInBand(n *Net, path string, bmc *BMCSim) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("lab: in-band IPMI: %w", err)
	}
	e.Defer(func() { l.Close() })
	target := net.JoinHostPort(bmc.Address, strconv.Itoa(bmc.serial))
	go relay(l, e.log, "in-band IPMI", dialServer(n, target))
	return nil
}

// SetLAN sets the LAN configuration the BMC reports on channel 1, as an
// operator sets a BMC's address (ipmitool lan set).
func (s *BMCSim) SetLAN(lan BMCLAN) error {
	for _, set := range [][]string{{"ipaddr", lan.IP}, {"macaddr", lan.MAC}, {"defgw", "ipaddr", lan.Gateway}} {
		if set[len(set)-1] == "" {
			continue
		}
		if out, err := s.IPMItool(append([]string{"lan", "set", "1"}, set...)...); err != nil {
			return fmt.Errorf("lab: BMC %s: lan set %s: %v: %s", s.Address, strings.Join(set, " "), err, out)
		}
	}
	return nil
}

// setMachine replaces the command that power on runs.
func (s *BMCSim) setMachine(machine string) error {
	script := "#!/bin/sh\necho $$ > " + filepath.Join(s.dir, "machine.pid") + "\n" + machine + "\n"
	tmp := filepath.Join(s.dir, "machine.sh.new")
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return os.Rename(tmp, filepath.Join(s.dir, "machine.sh"))
}
