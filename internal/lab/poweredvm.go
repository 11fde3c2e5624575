package lab

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
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

// NewPoweredVM sets a VM up, powered off, behind a new BMC whose user
// admin has password. opts are BootVMWith's (DebugExit would make QEMU
// exit at a disk boot, which the BMC then sees as power off).
func NewPoweredVM(t testing.TB, n *Net, mac, password string, opts VMOptions) *PoweredVM {
	t.Helper()
	qemu := testenv.NeedCommand(t, "qemu-system-x86_64")
	needROM(t)
	vm := &VM{Accel: accel()}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		t.Fatalf("lab: NewPoweredVM: bad MAC %q", mac)
	}
	vm.MAC, vm.Tap = hw, tapName(n, hw)
	vm.addTap(t, n)
	console := filepath.Join(t.TempDir(), "console")
	if err := os.WriteFile(console, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Console = console
	argv := append([]string{"exec", "ip", "netns", "exec", n.BridgeNS, qemu}, vm.qemuArgs(opts)...)
	for i, a := range argv {
		argv[i] = shellQuote(a)
	}
	p := &PoweredVM{Transcript: newTranscript(), MAC: hw.String()}
	// Each BMC on an address of its own, as on a real network.
	addr := fmt.Sprintf("127.0.0.%d", 10+n.bmcs.Add(1))
	p.BMC = startBMCSim(t, n, addr, password, strings.Join(argv, " ")+" </dev/null >/dev/null 2>&1")
	done := make(chan struct{})
	go tail(console, p.Transcript, done)
	t.Cleanup(func() { close(done) })
	return p
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
