package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// VM is a QEMU virtual machine booting from the network of a Net. The
// embedded Proc's Transcript is its serial console: SeaBIOS, iPXE (DHCP,
// the script, each download), the kernel and the initramfs's markers.
type VM struct {
	*Proc
	MAC     net.HardwareAddr
	Tap     string    // its tap device, in the Net's bridge namespace
	Accel   string    // "kvm" or "tcg"
	Started time.Time // when QEMU was started
	vars    string    // the VM's copy of OVMFMSVars (SecureBoot)
	monitor string    // its monitor's socket (VMOptions.Monitor)
	taps    []string  // the taps of VMOptions.NICs
}

// BootVM powers on a VM with one e1000 NIC (MAC mac) on a new tap in n's
// bridge and boots it from the network (-boot n): the NIC's option ROM,
// Debian's ipxe-qemu efi-e1000.rom, is iPXE. QEMU is killed after life,
// or at Close. It uses TCG, which behaves the same on every machine;
// PROVISION_LAB_ACCEL=kvm asks for KVM (nested KVM can fail in iPXE's
// real-mode code with "KVM internal error. Suberror: 1"). QEMU exits
// instead of rebooting.
func (e *Env) BootVM(n *Net, mac string, life time.Duration) (*VM, error) {
	return e.BootVMWith(n, mac, life, VMOptions{})
}

// VMOptions are what BootVMWith adds to BootVM's VM. The zero value is
// BootVM's.
type VMOptions struct {
	// Disk is a raw disk image (NewDisk) attached as a virtio-blk disk,
	// /dev/vda in the guest. The boot order is then the NIC, then the
	// disk (bootindex 1 and 2): when iPXE's script runs exit, SeaBIOS
	// boots the disk.
	Disk string
	// Reboot lets a reboot of the guest reset the VM (iPXE then runs
	// again) instead of making QEMU exit. For BootVMWith the reboot is a
	// new QEMU, as a power cycle: after a warm reset under TCG, writes
	// into RAM the kernel had run from crawl (OVMF's SEC decompressed its
	// firmware volume at about 15 bytes a second; SeaBIOS's GRUB loaded
	// the initrd for minutes), where a fresh QEMU takes seconds.
	Reboot bool
	// DebugExit adds QEMU's isa-debug-exit device at I/O port 0xf4: a
	// guest write of v there makes QEMU exit with status (v<<1)|1.
	// BootSector writes 0x10 (DiskBootedExit, see VM.WaitDiskBooted).
	DebugExit bool
	// MemoryMiB is the guest's memory, 256 MiB if 0. The Debian
	// installer needs about 1024.
	MemoryMiB int
	// Console, if set, is a file the serial console is appended to,
	// instead of QEMU's standard output.
	Console string
	// Serial, if set, is a Unix socket QEMU connects the serial port to
	// (as a client, when it starts), instead of Console or its standard
	// output: the SOL relay of a PoweredVM's BMC listens there.
	Serial string
	// Accel is "kvm" or "tcg"; empty means PROVISION_LAB_ACCEL, else tcg.
	Accel string
	// UEFI boots OVMF (OVMFCode) instead of SeaBIOS, with a virtio NIC
	// without option ROM: the firmware's own PXE (EDK II's) boots, not
	// iPXE. The initramfs has no virtio-net driver, so its DHCP fails
	// after the boot marker.
	UEFI bool
	// HTTPBoot is UEFI with the firmware's PXE turned off (OVMF's fw_cfg
	// knobs opt/org.tianocore/IPv4PXESupport and IPv6PXESupport) and no
	// IPv6: the first thing it tries is UEFI HTTP boot over IPv4 (DHCP
	// arch 16, class HTTPClient), as a server set to HTTP boot does.
	HTTPBoot bool
	// SecureBoot is UEFI with Secure Boot on: OVMF's Secure Boot build
	// (OVMFSecureCode, which needs SMM, so a q35 machine) with a fresh
	// copy of OVMFMSVars, Microsoft's keys enrolled, as on a server off
	// the shelf. Only loaders signed for those keys (shim) start.
	SecureBoot bool
	// Kernel and Initrd, if set, are booted directly by QEMU (-kernel,
	// -initrd) instead of the network: Debian's ipxe.lkrn with a script
	// as its initrd plays a PXE client that is not the NIC's iPXE ROM.
	Kernel, Initrd string
	// Append is the kernel command line of Kernel (-append), for a
	// Linux kernel booted directly: "console=ttyS0 provision.labshell=1".
	Append string
	// NICs are more NICs, by MAC, each on a tap of its own on the lab
	// bridge: the first NIC's model, without an option ROM (only the
	// first boots). The guest sees them after the first, in this order.
	NICs []string
	// Disks are more raw disks after Disk (/dev/vdb...), not booted from.
	Disks []string
	// UEFIVars, with UEFI, is a writable copy of OVMF's variable store
	// (Env.NewUEFIVars): boot entries written by the guest stay for the
	// next power-on that is given the same file, and the boot order is
	// the firmware's own (no bootindex): a boot loader that puts its
	// entry first boots next time. (iPXE 1.0.0+git-20190125's exit to
	// OVMF, where the network comes first, never reaches the next boot
	// option in this lab.)
	UEFIVars string
	// Monitor gives the VM a QEMU monitor, for VM.SetLink.
	Monitor bool
	// NoIPv6, with UEFI, turns OVMF's IPv6 network boot off (fw_cfg
	// opt/org.tianocore/IPv6Support), as many servers ship: when the
	// network boot hands back (iPXE's exit), the firmware goes on to the
	// next device instead of minutes of IPv6 PXE and HTTP timeouts.
	NoIPv6 bool
	// SMBIOS are QEMU -smbios values, each one option
	// ("type=1,manufacturer=Dell Inc.,product=PowerEdge R650,serial=ABC123"):
	// the DMI identity the guest reads from /sys/class/dmi/id.
	SMBIOS []string
	// Serials are the disks' serial numbers, Disk's first then Disks' in
	// order ("" none): what the guest reads from /sys/block/vdX/serial.
	Serials []string
	// IPMI is a Unix socket (PoweredVM.BMC's InBand) that QEMU connects an
	// ipmi-bmc-extern device to, behind an ISA KCS interface: the guest's
	// in-band IPMI (ipmi_si, /dev/ipmi0) talks to that BMC.
	IPMI string
}

// Debian's ovmf firmware images: OVMFCode without Secure Boot;
// OVMFSecureCode with it, and OVMFMSVars, its variable store with
// Microsoft's keys enrolled (PK, KEK, db) and Secure Boot on.
const (
	OVMFCode       = "/usr/share/OVMF/OVMF_CODE.fd"
	OVMFVars       = "/usr/share/OVMF/OVMF_VARS.fd" // OVMFCode's empty variable store
	OVMFSecureCode = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
	OVMFMSVars     = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
)

// BootVMWith is BootVM with the options of opts.
func (e *Env) BootVMWith(n *Net, mac string, life time.Duration, opts VMOptions) (*VM, error) {
	qemu, err := needCommand("qemu-system-x86_64", "qemu-system-x86")
	if err != nil {
		return nil, err
	}
	hw, err := net.ParseMAC(mac)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("lab: BootVM: bad MAC %q", mac)
	}
	if opts.Disk != "" {
		if _, err := os.Stat(opts.Disk); err != nil {
			return nil, fmt.Errorf("lab: BootVM: disk: %w", err)
		}
	}
	if opts.HTTPBoot || opts.SecureBoot {
		opts.UEFI = true
	}
	for _, d := range opts.Disks {
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("lab: BootVM: disk: %w", err)
		}
	}
	var more []net.HardwareAddr
	for _, m := range opts.NICs {
		h, err := net.ParseMAC(m)
		if err != nil || len(h) != 6 {
			return nil, fmt.Errorf("lab: BootVM: bad MAC %q", m)
		}
		more = append(more, h)
	}
	if err := needFirmware(opts.UEFI); err != nil {
		return nil, err
	}
	vm := &VM{MAC: hw, Tap: tapName(n, hw), Accel: accel()}
	if opts.Accel != "" {
		vm.Accel = opts.Accel
	}
	if err := e.addTap(n, vm.Tap); err != nil {
		return nil, err
	}
	for _, h := range more {
		tap := tapName(n, h)
		if err := e.addTap(n, tap); err != nil {
			return nil, err
		}
		vm.taps = append(vm.taps, tap)
	}
	if opts.Monitor {
		dir, err := e.TempDir()
		if err != nil {
			return nil, err
		}
		vm.monitor = filepath.Join(dir, "monitor.sock")
	}
	if opts.SecureBoot {
		if vm.vars, err = e.copyVars(); err != nil {
			return nil, err
		}
	}
	vm.Started = time.Now()
	var restart func(*Proc) bool
	if opts.Reboot { // QEMU exits at a reboot, and starts again
		restart, opts.Reboot = rebooted, false
	}
	vm.Proc, err = e.startWith("qemu "+hw.String(), life, restart, append(
		[]string{"ip", "netns", "exec", n.BridgeNS, qemu}, vm.qemuArgs(opts)...)...)
	if err != nil {
		return nil, err
	}
	return vm, nil
}

// rebooted reports whether a QEMU that exited with status 0 (-no-reboot)
// did so because its guest rebooted, rather than powered off: the
// kernel's last word is then not "reboot: Power down".
func rebooted(p *Proc) bool {
	lines := p.Lines()
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-5; i-- {
		if strings.Contains(lines[i], "reboot: Power down") {
			return false
		}
	}
	return true
}

// needFirmware checks for OVMF (uefi) or the e1000's iPXE ROM.
func needFirmware(uefi bool) error {
	if !uefi {
		return needROM()
	}
	for _, f := range []string{OVMFCode, OVMFSecureCode, OVMFMSVars} {
		if err := needFile(f, "ovmf"); err != nil {
			return err
		}
	}
	return nil
}

// copyVars returns a fresh copy of OVMFMSVars: the firmware writes its
// variables.
func (e *Env) copyVars() (string, error) {
	dir, err := e.TempDir()
	if err != nil {
		return "", err
	}
	vars := filepath.Join(dir, "OVMF_VARS.fd")
	if err := copyFile(OVMFMSVars, vars); err != nil {
		return "", fmt.Errorf("lab: BootVM: %w", err)
	}
	return vars, nil
}

// WaitDiskBooted waits up to timeout for QEMU to exit and returns nil if
// it exited with DiskBootedExit: BootSector ran (VMOptions.DebugExit).
func (vm *VM) WaitDiskBooted(timeout time.Duration) error {
	err := vm.Wait(timeout)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == DiskBootedExit:
		return nil
	case err == nil:
		return errors.New("QEMU exited with status 0, not the disk-booted status")
	}
	return fmt.Errorf("the disk did not boot: %w", err)
}

// WaitBooted waits for the initramfs's boot marker and returns the value
// of provision.host= it printed.
func (vm *VM) WaitBooted(timeout time.Duration) (host string, err error) {
	re := BootedPattern()
	line, err := vm.WaitFor(re, timeout)
	if err != nil {
		return "", err
	}
	return re.FindStringSubmatch(line)[1], nil
}

// SetLink sets the link of the VM's NIC i (0 the first, 1 the first of
// VMOptions.NICs...) up or down, as pulling its cable would: QEMU's
// set_link, through the monitor (VMOptions.Monitor).
func (vm *VM) SetLink(i int, up bool) error {
	if vm.monitor == "" {
		return errors.New("lab: SetLink: the VM has no monitor (VMOptions.Monitor)")
	}
	c, err := net.DialTimeout("unix", vm.monitor, 5*time.Second)
	if err != nil {
		return fmt.Errorf("lab: SetLink: %w", err)
	}
	defer c.Close()
	state := "off"
	if up {
		state = "on"
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "set_link net%d %s\n", i, state); err != nil {
		return fmt.Errorf("lab: SetLink: %w", err)
	}
	// The monitor echoes the command, then its prompt again: read until
	// the second prompt, or an error line.
	var out []byte
	buf := make([]byte, 512)
	for strings.Count(string(out), "(qemu)") < 2 {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return fmt.Errorf("lab: SetLink: %w (monitor said %q)", err, out)
		}
	}
	if strings.Contains(string(out), "not found") || strings.Contains(string(out), "Error") {
		return fmt.Errorf("lab: SetLink net%d %s: %q", i, state, out)
	}
	return nil
}

// NewUEFIVars returns a fresh copy of OVMF's empty variable store, for
// VMOptions.UEFIVars.
func (e *Env) NewUEFIVars() (string, error) {
	dir, err := e.TempDir()
	if err != nil {
		return "", err
	}
	vars := filepath.Join(dir, "OVMF_VARS.fd")
	if err := copyFile(OVMFVars, vars); err != nil {
		return "", fmt.Errorf("lab: NewUEFIVars: %w", err)
	}
	return vars, nil
}

// tapName is "t", the MAC's last three bytes and the Net's tap count:
// unique in the Net, so that a machine powered on again (same MAC) while
// its first run's tap still exists gets a new one, and short enough for a
// Linux interface name (15 bytes).
func tapName(n *Net, hw net.HardwareAddr) string {
	return fmt.Sprintf("t%x%03d", []byte(hw[3:]), n.taps.Add(1)%1000)
}

// addTap creates a tap in n's bridge namespace and removes it at Close
// (pushed before QEMU's cleanup, so it runs after QEMU has exited).
func (e *Env) addTap(n *Net, tap string) error {
	if err := run("ip", "-n", n.BridgeNS, "tuntap", "add", "dev", tap, "mode", "tap"); err != nil {
		return err
	}
	e.Defer(func() { exec.Command("ip", "-n", n.BridgeNS, "link", "del", tap).Run() })
	return run("ip", "-n", n.BridgeNS, "link", "set", tap, "master", BridgeIface, "up")
}

// qemuArgs: no default devices, the serial port on stdout, no monitor, and
// unless o.Reboot, exit rather than reboot (poweroff -f, a kernel panic with panic=N).
// -nographic (not -display none) makes QEMU set fw_cfg etc/sercon-port, so
// SeaBIOS copies the screen to the serial port: without it iPXE's messages
// never reach the console. That copy wraps at 80 columns.
func (vm *VM) qemuArgs(o VMOptions) []string {
	mem := 256
	if o.MemoryMiB > 0 {
		mem = o.MemoryMiB
	}
	machine := "pc"
	if o.SecureBoot {
		machine = "q35,smm=on" // the Secure Boot build keeps its variables behind SMM
	}
	args := []string{
		"-machine", machine + ",accel=" + vm.Accel,
		"-m", strconv.Itoa(mem), "-smp", "1",
		"-nodefaults", "-no-user-config", "-nographic",
	}
	switch {
	case o.SecureBoot:
		args = append(args, "-global", "driver=cfi.pflash01,property=secure,value=on",
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+OVMFSecureCode,
			"-drive", "if=pflash,format=raw,unit=1,file="+strings.ReplaceAll(vm.vars, ",", ",,"))
	case o.UEFI && o.UEFIVars != "":
		args = append(args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+OVMFCode,
			"-drive", "if=pflash,format=raw,unit=1,file="+strings.ReplaceAll(o.UEFIVars, ",", ",,"))
	case o.UEFI:
		args = append(args, "-drive", "if=pflash,format=raw,readonly=on,file="+OVMFCode)
	}
	if o.HTTPBoot {
		for _, knob := range []string{"IPv4PXESupport", "IPv6PXESupport", "IPv6Support"} {
			args = append(args, "-fw_cfg", "name=opt/org.tianocore/"+knob+",string=no")
		}
	} else if o.UEFI && o.NoIPv6 {
		args = append(args, "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no")
	}
	switch {
	case o.Serial != "":
		args = append(args, "-chardev", "socket,id=con0,path="+strings.ReplaceAll(o.Serial, ",", ",,"), "-serial", "chardev:con0")
	case o.Console != "":
		args = append(args, "-chardev", "file,id=con0,append=on,path="+strings.ReplaceAll(o.Console, ",", ",,"), "-serial", "chardev:con0")
	default:
		args = append(args, "-serial", "stdio")
	}
	if vm.monitor != "" {
		args = append(args, "-monitor", "unix:"+strings.ReplaceAll(vm.monitor, ",", ",,")+",server=on,wait=off")
	} else {
		args = append(args, "-monitor", "none")
	}
	if !o.Reboot {
		args = append(args, "-no-reboot")
	}
	nic := "e1000,netdev=net0,mac=" + vm.MAC.String()
	if o.UEFI {
		nic = "virtio-net-pci,romfile=,netdev=net0,mac=" + vm.MAC.String()
	}
	switch {
	case o.Kernel != "":
		args = append(args, "-kernel", o.Kernel)
		if o.Initrd != "" {
			args = append(args, "-initrd", o.Initrd)
		}
		if o.Append != "" {
			args = append(args, "-append", o.Append)
		}
	case o.Disk == "":
		args = append(args, "-boot", "n")
	case o.UEFI && o.UEFIVars != "":
		// The firmware's own boot order, kept in its variables, decides,
		// as on a real server: an empty disk boots nothing, so the NIC
		// boots, until a boot loader adds its entry first (efibootmgr).
		args = append(args,
			"-drive", "if=none,id=d0,format=raw,file="+strings.ReplaceAll(o.Disk, ",", ",,"),
			"-device", "virtio-blk-pci,drive=d0"+serialOpt(o, 0))
	default:
		// bootindex replaces -boot: QEMU hands SeaBIOS the order.
		nic += ",bootindex=1"
		args = append(args,
			"-drive", "if=none,id=d0,format=raw,file="+strings.ReplaceAll(o.Disk, ",", ",,"),
			"-device", "virtio-blk-pci,drive=d0,bootindex=2"+serialOpt(o, 0))
	}
	for i, d := range o.Disks {
		args = append(args,
			"-drive", fmt.Sprintf("if=none,id=d%d,format=raw,file=%s", i+1, strings.ReplaceAll(d, ",", ",,")),
			"-device", fmt.Sprintf("virtio-blk-pci,drive=d%d", i+1)+serialOpt(o, i+1))
	}
	for _, v := range o.SMBIOS {
		args = append(args, "-smbios", v)
	}
	if o.IPMI != "" {
		args = append(args,
			"-chardev", "socket,id=ipmi0,path="+strings.ReplaceAll(o.IPMI, ",", ",,")+",reconnect=2",
			"-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
			"-device", "isa-ipmi-kcs,bmc=bmc0")
	}
	args = append(args,
		"-netdev", "tap,id=net0,ifname="+vm.Tap+",script=no,downscript=no",
		"-device", nic)
	model := "e1000"
	if o.UEFI {
		model = "virtio-net-pci"
	}
	for i, mac := range o.NICs {
		args = append(args,
			"-netdev", fmt.Sprintf("tap,id=net%d,ifname=%s,script=no,downscript=no", i+1, vm.taps[i]),
			"-device", fmt.Sprintf("%s,romfile=,netdev=net%d,mac=%s", model, i+1, mac))
	}
	if o.DebugExit {
		args = append(args, "-device", fmt.Sprintf("isa-debug-exit,iobase=%#x,iosize=0x04", debugExitPort))
	}
	return args
}

// serialOpt is the ",serial=S" of disk i (0: Disk), or "".
func serialOpt(o VMOptions, i int) string {
	if i >= len(o.Serials) || o.Serials[i] == "" {
		return ""
	}
	return ",serial=" + strings.ReplaceAll(o.Serials[i], ",", ",,")
}

// accel is TCG unless PROVISION_LAB_ACCEL says otherwise.
func accel() string {
	if a := os.Getenv("PROVISION_LAB_ACCEL"); a != "" {
		return a
	}
	return "tcg"
}

// needROM fails with a *MissingError unless QEMU's e1000 boot ROM is
// installed: QEMU loads efi-e1000.rom from its data directories, where
// Debian's ipxe-qemu puts it (/usr/lib/ipxe/qemu).
func needROM() error {
	return needFile("/usr/lib/ipxe/qemu/efi-e1000.rom", "ipxe-qemu")
}

// copyFile copies src to a new file dst.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
