// Package lab is a test harness that network-boots a QEMU virtual machine
// against a server under test, entirely inside network namespaces that the
// test creates and removes.
//
// The pieces, each taking a testing.TB and cleaning up with t.Cleanup:
//
//   - Assets builds what the VM boots: a Debian kernel (apt-get download of
//     the package linux-image-amd64 depends on, dpkg -x, cached between runs)
//     and a tiny busybox initramfs holding e1000.ko and an /init that prints
//     the boot marker on the serial console and powers off.
//   - NewNet makes two namespaces joined by a veth pair: the bridge namespace
//     (a Linux bridge and one tap per VM) and the server namespace, where the
//     server under test runs (Net.Exec, Net.Run) or where a server in the
//     test process gets its sockets (Net.Listen, Net.ListenPacket). The
//     bridge answers IPv6 router solicitations with an empty advertisement,
//     which spares iPXE a ~15 s IPv6 autoconfiguration timeout.
//   - BootVM starts qemu-system-x86_64 -boot n with an e1000 NIC, whose
//     option ROM is iPXE, and exposes its serial console (VM.WaitFor).
//
// The layout, with the default test-only prefix (never routed: nothing is
// added to the root namespace):
//
//	[server ns]  lab0 10.251.0.1/24
//	     | veth
//	[bridge ns]  uplink -- br0 (fe80::1, answers RS) -- t<mac> -- qemu (e1000, iPXE ROM)
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
package lab
