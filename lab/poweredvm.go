package lab

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PoweredVM is a QEMU VM that a simulated BMC powers, as a real machine's
// BMC does: power on (through IPMI) starts QEMU, power off stops it, and
// the VM keeps its tap and disk across power cycles. Its serial console,
// a file QEMU appends to, is tailed into the embedded Transcript, across
// every power-on; unless its BMC carries it (BMCOptions.SOL): then the
// Transcript stays empty and the console is read through the BMC.
type PoweredVM struct {
	*Transcript
	BMC *BMCSim // on 127.0.0.N of the Net's server namespace, where the appliance runs
	// Wire, with BMCOptions.SOL, is a probe on the serial port's wire:
	// each line the machine sent with when it crossed, whether or not a
	// SOL session carried it. For timings (the delay from the machine to
	// a reader); what a reader shows is proven through the BMC.
	Wire *Transcript
	MAC  string
	vm   *VM
	opts VMOptions
	qemu string
	n    *Net
}

// NewPoweredVM sets a VM up on n, powered off, behind a new BMC whose
// user admin has password. opts are BootVMWith's (DebugExit would make
// QEMU exit at a disk boot, which the BMC then sees as power off).
func (e *Env) NewPoweredVM(n *Net, mac, password string, opts VMOptions) (*PoweredVM, error) {
	return e.NewPoweredVMWith(n, mac, password, opts, BMCOptions{})
}

// BMCOptions are how a PoweredVM's BMC differs from the default.
type BMCOptions struct {
	// Port is its UDP port; 0: a free one. 623, IPMI's own, is what an
	// appliance that learns the BMC's address from the machine assumes.
	Port int
	// InBand connects the BMC to the VM as its in-band interface too
	// (VMOptions.IPMI): a KCS device in the guest, ipmi_si's /dev/ipmi0.
	InBand bool
	// LAN, if set, is the LAN configuration the BMC reports (its channel
	// 1's IP address, MAC and gateway, as `ipmitool lan print` shows):
	// set through the BMC itself, as an operator would, once it runs. An
	// IP of "" is the address the BMC answers on.
	LAN *BMCLAN
	// SOL makes the VM's serial port its only console, carried by the
	// BMC's serial-over-LAN (ipmi_sim's "sol" line, 115200 baud), as on a
	// server whose console is reached through its BMC: `ipmitool sol
	// activate`, or package console, reads and types into it. The
	// PoweredVM's Transcript then stays empty. A SOL session stays open
	// across power cycles and carries each power-on's console; what the
	// VM prints while no session is open is lost.
	SOL bool
}

// BMCLAN is a BMC's LAN configuration: addresses in text form.
type BMCLAN struct{ IP, MAC, Gateway string }

// NewPoweredVMWith is NewPoweredVM with a BMC as b says.
func (e *Env) NewPoweredVMWith(n *Net, mac, password string, opts VMOptions, b BMCOptions) (*PoweredVM, error) {
	qemu, err := needCommand("qemu-system-x86_64", "qemu-system-x86")
	if err != nil {
		return nil, err
	}
	if err := needROM(); err != nil {
		return nil, err
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("lab: NewPoweredVM: bad MAC %q", mac)
	}
	vm := &VM{Accel: accel(), MAC: hw, Tap: tapName(n, hw)}
	if err := e.addTap(n, vm.Tap); err != nil {
		return nil, err
	}
	for _, m := range opts.NICs {
		h, err := net.ParseMAC(m)
		if err != nil || len(h) != 6 {
			return nil, fmt.Errorf("lab: NewPoweredVM: bad MAC %q", m)
		}
		tap := tapName(n, h)
		if err := e.addTap(n, tap); err != nil {
			return nil, err
		}
		vm.taps = append(vm.taps, tap)
	}
	dir, err := e.TempDir()
	if err != nil {
		return nil, err
	}
	p := &PoweredVM{Transcript: newTranscript(), MAC: hw.String(), vm: vm, qemu: qemu, n: n}
	// Each BMC on an address of its own, as on a real network.
	addr := fmt.Sprintf("127.0.0.%d", 10+n.bmcs.Add(1))
	sol := ""
	opts.Console, opts.Serial = "", ""
	if b.SOL {
		opts.Serial = filepath.Join(dir, "serial.sock")
		if sol, p.Wire, err = e.relaySOL(n, opts.Serial, addr); err != nil {
			return nil, err
		}
	} else {
		opts.Console = filepath.Join(dir, "console")
		if err := os.WriteFile(opts.Console, nil, 0o644); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	if b.InBand {
		opts.IPMI = filepath.Join(dir, "ipmi.sock")
	}
	p.opts = opts
	if p.BMC, err = e.startBMCSim(n, password, p.machine(opts), SimOptions{Addr: addr, Port: b.Port, SOL: sol}); err != nil {
		return nil, err
	}
	if b.InBand {
		if err := e.proxyInBand(n, opts.IPMI, p.BMC); err != nil {
			return nil, err
		}
	}
	if b.LAN != nil {
		lan := *b.LAN
		if lan.IP == "" {
			lan.IP = p.BMC.Address
		}
		if err := p.BMC.SetLAN(lan); err != nil {
			return nil, err
		}
	}
	if opts.Console != "" {
		done := make(chan struct{})
		go tail(opts.Console, p.Transcript, done)
		e.Defer(func() { close(done) })
	}
	return p, nil
}

// machine is the shell command that powers the VM on with opts.
func (p *PoweredVM) machine(opts VMOptions) string {
	argv := append([]string{"exec", "ip", "netns", "exec", p.n.BridgeNS, p.qemu}, p.vm.qemuArgs(opts)...)
	for i, a := range argv {
		argv[i] = shellQuote(a)
	}
	return strings.Join(argv, " ") + " </dev/null >/dev/null 2>&1"
}

// Reconfigure changes the VM's hardware for its next power-on (a disk
// added, say), as a technician would with the machine off: opts replaces
// the options it was made with, but for its console (or SOL serial port),
// NICs and in-band interface, which stay.
func (p *PoweredVM) Reconfigure(opts VMOptions) error {
	opts.Console, opts.Serial, opts.NICs, opts.IPMI = p.opts.Console, p.opts.Serial, p.opts.NICs, p.opts.IPMI
	p.opts = opts
	return p.BMC.setMachine(p.machine(opts))
}

// tail copies what is appended to path into tr until done is closed.
func tail(path string, tr *Transcript, done <-chan struct{}) {
	f, err := os.Open(path)
	if err != nil {
		tr.end(err)
		return
	}
	defer f.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			tr.Write(buf[:n])
			continue
		}
		if err != nil && err != io.EOF {
			tr.end(err)
			return
		}
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
