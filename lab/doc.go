// Package lab network-boots QEMU virtual machines against a server,
// entirely inside network namespaces that it creates and removes. The
// tests drive it through lab/labtest; `provision demo` (lab/demo) runs
// the same machinery outside a test.
//
// Everything is made through an Env, which owns it: each resource pushes
// a cleanup when it is made, and Env.Close runs them last first (a VM
// stops before its tap goes, the tap before its namespace). Every method
// returns an error; a missing prerequisite (not root, QEMU or busybox-static
// not installed, no kernel package apt can fetch) is a *MissingError
// (errors.Is(err, ErrMissing)) whose text says what to install.
//
//	env, err := lab.New(ctx, lab.Options{Log: os.Stderr})
//	defer env.Close()
//	n, err := env.NewNet("demo")
//	kernel, initrd, err := env.Assets()
//	vm, err := env.BootVM(n, "52:54:00:12:34:56", 5*time.Minute)
//	host, err := vm.WaitBooted(5 * time.Minute)
//
// The pieces:
//
//   - Env.Assets builds what the VM boots: a Debian kernel (apt-get
//     download of the package linux-image-amd64 depends on, dpkg -x,
//     cached between runs) and a tiny busybox initramfs holding e1000.ko
//     and an /init that prints the boot marker on the serial console and
//     powers off (the archive and module code is package bootenv's).
//     Env.KernelPackage returns the cached package itself, which diskless
//     images are added from.
//   - Env.InstallerAssets builds the lab installer instead: the same
//     kernel and an initramfs that also loads the virtio disk modules,
//     fetches the template named by provision.ks=, writes it to /dev/vda
//     with a boot sector (BootSector), reports to the server and reboots.
//     DebianInstaller returns the real Debian 12 installer's kernel and
//     initrd (package debian-installer-12-netboot-amd64).
//   - Env.NewNet makes two namespaces joined by a veth pair: the bridge
//     namespace (a Linux bridge and one tap per VM) and the server
//     namespace, where the server runs (Env.Exec, Net.Run) or where a
//     server in this process gets its sockets (Env.Listen). The bridge
//     answers IPv6 router solicitations with an empty advertisement,
//     which spares iPXE a ~15 s IPv6 autoconfiguration timeout. Env.AddServer joins a second server
//     namespace; Env.StartDnsmasq a site's own DHCP server.
//     Env.StartUpstream is the network's one way out: an HTTP relay,
//     listening in the server namespace, from archive names to the real
//     package archives (this process's network), counting each fetch, for
//     the appliance's package cache.
//   - Env.BootVM starts qemu-system-x86_64 -boot n with an e1000 NIC, whose
//     option ROM is iPXE, and exposes its serial console (VM.WaitFor).
//     Env.BootVMWith adds a raw virtio disk (Env.NewDisk; boot order
//     network, then disk), reboots that reset the VM instead of ending
//     QEMU, the isa-debug-exit device and the memory size (VMOptions).
//   - Env.StartBMCSim runs OpenIPMI's ipmi_sim; Env.NewPoweredVM puts a VM
//     behind one, so that IPMI power on starts QEMU. With BMCOptions.SOL
//     the VM's serial port is its only console, carried by the BMC's
//     serial-over-LAN: QEMU (bridge namespace) connects its serial port
//     to a Unix socket, ipmi_sim (server namespace) connects its SOL to a
//     TCP port there, and a relay in this process joins the newest of
//     each, so one SOL session sees every power-on. Env.ToolIn gives a
//     program in this process (package console's ipmitool) a way into
//     the server namespace, where those BMCs are. Env.StartBMCSimWith
//     is a BMC of its own with SOL to a caller's listener (the caller is
//     the serial port) or a LAN configuration program.
//
// The layout, with the default lab-only prefix (never routed: nothing is
// added to the root namespace):
//
//	[server ns]  lab0 10.251.0.1/24
//	     | veth
//	[bridge ns]  uplink -- br0 (fe80::1, answers RS) -- t<mac> -- qemu (e1000, iPXE ROM)
//
// The kernel cache (CacheDir) keeps, per kernel package version, vmlinuz
// and the modules e1000, virtio_pci and virtio_blk with their
// dependencies, in load order. An entry written before the virtio modules
// were kept lacks them; it is downloaded again and extended in place.
//
// The initramfs's /init loads e1000 and prints, on /dev/ttyS0:
//
//	PROVISION-LAB-BOOTED host=<provision.host= from /proc/cmdline>
//	PROVISION-LAB-DHCP ip=<address udhcpc got on eth0>   (or: failed)
//	PROVISION-LAB-POWEROFF
//
// What the e1000 ROM (iPXE 1.0.0+git-20190125, Debian's ipxe-qemu) needs
// from the server: its DHCPDISCOVER carries user class (option 77) "iPXE"
// and vendor class (option 60) "PXEClient:Arch:00000:UNDI:002001", so the
// reply can name the script's http:// URL as boot file (option 67) and skip
// TFTP. Unless the reply also carries iPXE's option 175.176 (no-pxedhcp) = 1,
// iPXE waits ~2 s more for ProxyDHCP offers. On the console, SeaBIOS wraps
// iPXE's lines at 80 columns, so patterns should match short pieces.
//
// The initramfs then runs poweroff -f, so QEMU exits. The kernel command line that the
// boot script hands over should hold console=ttyS0 (so kernel messages show
// too) and provision.host=NAME.
//
// # The lab installer
//
// The installer's kernel command line holds provision.ks=URL (the
// template), provision.host=NAME and provision.labmode=MODE (ok if
// absent). Its /init loads e1000 and virtio_ring, virtio_pci_modern_dev,
// virtio_pci_legacy_dev, virtio, virtio_pci, virtio_blk, gets a lease as
// above, and prints (S is an HTTP status, or "none" when no server
// answered):
//
//	PROVISION-LAB-BOOTED host=NAME
//	PROVISION-LAB-INSTALLER url=URL mode=MODE
//	PROVISION-LAB-DHCP ip=ADDR                    (or: failed)
//	PROVISION-LAB-FETCHED bytes=N                 GET URL answered 200
//	PROVISION-LAB-FETCH-FAILED status=S           or not: straight to the reboot
//	PROVISION-LAB-DISK host=NAME bytes=N          the disk is written and synced
//	then, by mode:
//	  ok:    PROVISION-LAB-DONE status=S          after POST URL/done (empty body)
//	  fail:  PROVISION-LAB-ERROR installer failed on purpose: no disk matches /dev/sdz
//	         PROVISION-LAB-FAILED-REPORTED status=S   after POST URL/failed: the
//	         last 50 kernel log lines and "lab installer failed on purpose"
//	  hang:  PROVISION-LAB-HANGING, then GET URL every 2 s (at most 90 times)
//	         while it answers 200; then POST URL/done once:
//	         PROVISION-LAB-DONE-REFUSED status=S  if it did not answer 2xx
//	         PROVISION-LAB-DONE status=S          if it did
//	PROVISION-LAB-REBOOT                          then reboot -f
//
// With provision.labshell=1 (LabShellArg) it prints PROVISION-LAB-SHELL
// instead of the reboot and runs busybox sh on the console (setsid
// cttyhack: ttyS0 its controlling terminal), again whenever it exits: an
// operator attached through SOL types into it. Booted directly
// (VMOptions.Kernel, Initrd, Append) without provision.ks= it gets there
// with no server at all, after PROVISION-LAB-FETCH-FAILED status=none.
//
// An error prints PROVISION-LAB-ERROR and what failed; a disk that cannot
// be written is reported to URL/failed as in fail mode. Every mode writes
// the disk (fail mode fails after it), so the next boot can boot it:
//
//	offset 0                       BootSector, 512 bytes
//	DiskLabelOffset (1 MiB - 512)  "PROVISION-LAB-DISK host=NAME bytes=N\n", zero padded to 512
//	DiskTemplateOffset (1 MiB)     the N fetched bytes, verbatim
//
// ReadInstalled parses it from the disk image, ReadDisk reads any region.
// With VMOptions.Reboot, reboot -f resets the VM and iPXE runs again; an
// iPXE script that runs exit hands back to SeaBIOS, which boots the disk
// ("Booting from Hard Disk..."). BootSector prints PROVISION-DISK-BOOTED
// through int 10h, which SeaBIOS copies to the serial console, and writes
// 0x10 to port 0xf4: with VMOptions.DebugExit QEMU then exits with status
// (0x10<<1)|1 = 33, DiskBootedExit (VM.WaitDiskBooted).
//
// PROVISION_LAB_OUTPUT=DIR copies every process's output (a VM's serial
// console, a server's log) as it comes to DIR/LABEL.log: a window on a
// long VM test while it runs.
package lab
