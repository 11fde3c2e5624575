package demo

import (
	"os"
	"time"

	"github.com/provision/provision/lab"
)

// chooseAccel picks KVM when asked, or (auto) when a short network boot of
// the lab's marker initramfs under KVM works: /dev/kvm can exist and still
// fail in iPXE's real-mode code.
func (d *demo) chooseAccel(app *appliance) (string, error) {
	if d.o.Accel != "auto" {
		d.p.say("accelerator: %s (--accel)", d.o.Accel)
		return d.o.Accel, nil
	}
	if _, err := os.Stat("/dev/kvm"); err != nil {
		d.p.say("accelerator: TCG (no /dev/kvm)")
		return "tcg", nil
	}
	vm, err := d.probe(app)
	if err != nil {
		return "", err
	}
	host, bootErr := vm.WaitBooted(30 * time.Second)
	vm.Stop()
	if err := app.runAll([]string{"system", "remove", "kvm-probe"}, []string{"profile", "remove", "kvm-probe"},
		[]string{"image", "remove", "kvm-probe"}); err != nil {
		return "", err
	}
	if bootErr == nil && host == "kvm-probe" {
		d.p.say("accelerator: KVM (a probe boot under KVM took %.1fs)", time.Since(vm.Started).Seconds())
		return "kvm", nil
	}
	d.p.say("accelerator: TCG (a probe boot under KVM did not finish: %v)", bootErr)
	return "tcg", nil
}

// probe registers the kvm-probe system, with the lab's marker
// initramfs, and powers it on under KVM.
func (d *demo) probe(app *appliance) (*lab.VM, error) {
	kernel, initrd, err := d.env.Assets()
	if err != nil {
		return nil, err
	}
	err = app.runAll(
		[]string{"image", "add", "kvm-probe", "--kernel", kernel, "--initrd", initrd},
		[]string{"profile", "add", "kvm-probe", "--image", "kvm-probe", "--kernel-args", "console=ttyS0 panic=5"},
		[]string{"system", "add", "kvm-probe", "--mac", probeMAC, "--ip", app.n.Addr(250).String(), "--profile", "kvm-probe"},
	)
	if err != nil {
		return nil, err
	}
	return d.env.BootVMWith(app.n, probeMAC, 40*time.Second, lab.VMOptions{Accel: "kvm"})
}
