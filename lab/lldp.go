package lab

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Switch is Debian's lldpd in a Net's bridge namespace, announcing on
// the VMs' taps what a top-of-rack switch announces on its ports: its
// name (LLDP system name) and each port's id (Port), every second.
type Switch struct {
	Name string
	sock string
	ns   string

	mu    sync.Mutex
	ports map[string][2]string // tap -> port id, description
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
	sw := &Switch{Name: name, sock: filepath.Join(dir, "lldpd.sock"), ns: n.BridgeNS, ports: map[string][2]string{}}
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
			stop := make(chan struct{})
			done := make(chan struct{})
			go sw.keep(stop, done)
			e.Defer(func() { close(stop); <-done })
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
// configured for one when it loses it (a VM's QEMU restarting): SetPort
// waits up to 30 s for the tap, then configures it and checks that
// lldpd took it, and the switch puts it back whenever lldpd forgets it,
// as a real switch keeps its port names.
func (sw *Switch) SetPort(tap, port, description string) error {
	sw.mu.Lock()
	sw.ports[tap] = [2]string{port, description}
	sw.mu.Unlock()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err = sw.apply(tap, port, description); err == nil {
			return nil
		}
	}
	return err
}

// apply configures tap's port id and description when lldpd knows the
// tap and announces something else on it.
func (sw *Switch) apply(tap, port, description string) error {
	out, err := sw.cli("-f", "keyvalue", "show", "interfaces", "ports", tap)
	if err != nil || !strings.Contains(out, tap) {
		return fmt.Errorf("lab: switch %s: no port %s yet", sw.Name, tap)
	}
	if strings.Contains(out, "port.local="+port) || strings.Contains(out, ".id="+port) {
		return nil
	}
	if _, err := sw.cli("configure", "ports", tap, "lldp", "portidsubtype", "local", port, "description", description); err != nil {
		return err
	}
	if out, err = sw.cli("-f", "keyvalue", "show", "interfaces", "ports", tap); err == nil && strings.Contains(out, port) {
		return nil
	}
	return fmt.Errorf("lab: switch %s: port %s does not announce %s: %s", sw.Name, tap, port, out)
}

// keep puts back, every half second, the ports lldpd forgot, until stop:
// one lldpcli run lists every tap, and only a tap that lldpd knows and
// announces with another port id is configured again (a lab's switch
// ran lldpcli for each port three times a second, a twentieth of a
// core through a VM test's life).
func (sw *Switch) keep(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		sw.mu.Lock()
		ports := maps.Clone(sw.ports)
		sw.mu.Unlock()
		out, err := sw.cli("-f", "keyvalue", "show", "interfaces")
		if err != nil {
			continue
		}
		for tap, p := range ports {
			if known, announced := announces(out, tap, p[0]); known && !announced {
				sw.apply(tap, p[0], p[1]) // a tap without a link now is put back once it has one
			}
		}
	}
}

// announces reads lldpcli's keyvalue listing of the switch's interfaces:
// whether it has tap, and whether tap's port id is port.
func announces(keyvalue, tap, port string) (known, announced bool) {
	prefix := "lldp." + tap + "."
	for _, l := range strings.Split(keyvalue, "\n") {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		known = true
		if rest == "port.local="+port || strings.HasSuffix(rest, ".id="+port) {
			announced = true
		}
	}
	return known, announced
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
