package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Switch is Debian's lldpd in a Net's bridge namespace, announcing on
// the VMs' taps what a top-of-rack switch announces on its ports: its
// name (LLDP system name) and each port's id (Port), every second.
type Switch struct {
	Name string
	sock string
	ns   string
}

// StartSwitch runs lldpd as the switch name on n's taps. The Linux
// bridge itself forwards no LLDP frame (01:80:c2:00:00:0e); lldpd sends
// on each tap directly, as a switch port does to the machine cabled to it.
func (e *Env) StartSwitch(n *Net, name string) (*Switch, error) {
	bin, err := needCommand("lldpd", "lldpd")
	if err != nil {
		return nil, err
	}
	if _, err := needCommand("lldpcli", "lldpd"); err != nil {
		return nil, err
	}
	// lldpd's unprivileged half (user _lldpd) opens the control socket:
	// its directory must be one that user can reach, not under the test's.
	dir, err := os.MkdirTemp("", "lldpd-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	e.Defer(func() { os.RemoveAll(dir) })
	sw := &Switch{Name: name, sock: filepath.Join(dir, "lldpd.sock"), ns: n.BridgeNS}
	conf := filepath.Join(dir, "lldpd.conf")
	text := fmt.Sprintf("configure system hostname %s\nconfigure lldp tx-interval 1\n", name)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	// -I t*: the taps only (tapName), not the bridge or its uplink.
	if _, err := e.start("lldpd "+name, 0, "ip", "netns", "exec", n.BridgeNS, bin, "-d", "-u", sw.sock, "-O", conf, "-I", "t*"); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := sw.cli("show", "configuration"); err == nil {
			return sw, nil
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("lab: lldpd %s did not start: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SetPort makes the switch announce port (its LLDP port id, "Ethernet1/7")
// and description on tap, from now until the switch stops. lldpd knows a
// tap only once it carries a link (its VM runs), and forgets what was
// configured for one it did not know: SetPort waits up to 30 s for the
// tap, then configures it and checks that lldpd took it.
func (sw *Switch) SetPort(tap, port, description string) error {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var out string
		if out, err = sw.cli("-f", "keyvalue", "show", "interfaces", "ports", tap); err != nil || !strings.Contains(out, tap) {
			err = fmt.Errorf("lab: switch %s: no port %s yet", sw.Name, tap)
			continue
		}
		if strings.Contains(out, "port.local="+port) || strings.Contains(out, ".id="+port) {
			return nil
		}
		if _, err = sw.cli("configure", "ports", tap, "lldp", "portidsubtype", "local", port, "description", description); err != nil {
			continue
		}
		if out, err = sw.cli("-f", "keyvalue", "show", "interfaces", "ports", tap); err == nil && strings.Contains(out, port) {
			return nil
		}
		err = fmt.Errorf("lab: switch %s: port %s does not announce %s: %s", sw.Name, tap, port, out)
	}
	return err
}

func (sw *Switch) cli(args ...string) (string, error) {
	b, err := exec.Command("ip", append([]string{"netns", "exec", sw.ns, "lldpcli", "-u", sw.sock}, args...)...).CombinedOutput()
	out := string(b)
	if err != nil {
		return out, fmt.Errorf("lab: lldpcli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// Taps returns the VM's taps: its first NIC's, then those of
// VMOptions.NICs, in order.
func (p *PoweredVM) Taps() []string { return append([]string{p.vm.Tap}, p.vm.taps...) }
