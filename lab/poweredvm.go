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
// every power-on.
type PoweredVM struct {
	*Transcript
	BMC *BMCSim // on 127.0.0.N of the Net's server namespace, where the appliance runs
	MAC string
}

// NewPoweredVM sets a VM up on n, powered off, behind a new BMC whose
// user admin has password. opts are BootVMWith's (DebugExit would make
// QEMU exit at a disk boot, which the BMC then sees as power off).
func (e *Env) NewPoweredVM(n *Net, mac, password string, opts VMOptions) (*PoweredVM, error) {
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
	dir, err := e.TempDir()
	if err != nil {
		return nil, err
	}
	opts.Console = filepath.Join(dir, "console")
	if err := os.WriteFile(opts.Console, nil, 0o644); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	argv := append([]string{"exec", "ip", "netns", "exec", n.BridgeNS, qemu}, vm.qemuArgs(opts)...)
	for i, a := range argv {
		argv[i] = shellQuote(a)
	}
	p := &PoweredVM{Transcript: newTranscript(), MAC: hw.String()}
	// Each BMC on an address of its own, as on a real network.
	addr := fmt.Sprintf("127.0.0.%d", 10+n.bmcs.Add(1))
	if p.BMC, err = e.startBMCSim(n, addr, password, strings.Join(argv, " ")+" </dev/null >/dev/null 2>&1"); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go tail(opts.Console, p.Transcript, done)
	e.Defer(func() { close(done) })
	return p, nil
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
