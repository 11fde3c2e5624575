package labtest

import (
	"testing"
	"time"

	"github.com/provision/provision/lab"
)

// BootVM is lab.Env.BootVM: a VM network-booting on n, killed after
// timeout or when t ends.
func BootVM(t testing.TB, n *Net, mac string, timeout time.Duration) *VM {
	t.Helper()
	return BootVMWith(t, n, mac, timeout, VMOptions{})
}

// BootVMWith is BootVM with the options of opts.
func BootVMWith(t testing.TB, n *Net, mac string, timeout time.Duration, opts VMOptions) *VM {
	t.Helper()
	vm, err := env(t).BootVMWith(n.Net, mac, timeout, opts)
	check(t, err)
	return vm
}

// NewPoweredVM is lab.Env.NewPoweredVM: a VM on n, powered off, behind a
// new simulated BMC whose user admin has password.
func NewPoweredVM(t testing.TB, n *Net, mac, password string, opts VMOptions) *PoweredVM {
	t.Helper()
	vm, err := env(t).NewPoweredVM(n.Net, mac, password, opts)
	check(t, err)
	return vm
}

// NewPoweredVMWith is lab.Env.NewPoweredVMWith: NewPoweredVM with a BMC
// as b says (its port, in-band IPMI, its LAN settings).
func NewPoweredVMWith(t testing.TB, n *Net, mac, password string, opts VMOptions, b BMCOptions) *PoweredVM {
	t.Helper()
	vm, err := env(t).NewPoweredVMWith(n.Net, mac, password, opts, b)
	check(t, err)
	return vm
}

// StartSwitch is lab.Env.StartSwitch: lldpd announcing switch name on
// n's taps.
func StartSwitch(t testing.TB, n *Net, name string) *Switch {
	t.Helper()
	sw, err := env(t).StartSwitch(n.Net, name)
	check(t, err)
	return sw
}

// NewDisk is lab.Env.NewDisk: a sparse raw disk image of sizeMiB MiB in
// t.TempDir().
func NewDisk(t testing.TB, sizeMiB int) string {
	t.Helper()
	disk, err := env(t).NewDisk(sizeMiB)
	check(t, err)
	return disk
}

// ReadDisk returns n bytes of the disk image at offset off; a region past
// its end fails the test.
func ReadDisk(t testing.TB, path string, off int64, n int) []byte {
	t.Helper()
	b, err := lab.ReadDisk(path, off, n)
	check(t, err)
	return b
}

// StartBMCSim is lab.Env.StartBMCSim: ipmi_sim on 127.0.0.1 with user
// admin and password, until t ends.
func StartBMCSim(t testing.TB, password string) *BMCSim {
	t.Helper()
	s, err := env(t).StartBMCSim(password)
	check(t, err)
	return s
}

// StartBMCSimAt is StartBMCSim on another loopback address (127.x.y.z).
func StartBMCSimAt(t testing.TB, addr, password string) *BMCSim {
	t.Helper()
	s, err := env(t).StartBMCSimAt(addr, password)
	check(t, err)
	return s
}

// FreePort returns a port of 127.0.0.1 ("udp" or "tcp") that was free a
// moment ago.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	port, err := lab.FreePort(network)
	check(t, err)
	return port
}

// NewUEFIVars is lab.Env.NewUEFIVars: a fresh OVMF variable store for
// VMOptions.UEFIVars.
func NewUEFIVars(t testing.TB) string {
	t.Helper()
	vars, err := env(t).NewUEFIVars()
	check(t, err)
	return vars
}
