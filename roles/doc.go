// Package roles holds the example diskless roles, builds the small
// busybox root images the tests and the demo lab boot, and builds Debian
// role roots with mmdebstrap (DebianRoot, for "provision image build").
//
// A role is an overlay: files copied over a root image, holding the boot
// hooks that write the role's configuration from its settings (see
// package bootenv for the convention). lvs/overlay is the LVS role: its
// hook writes /etc/keepalived/keepalived.conf with virtual_router_id from
// `zonecfg get lvs.vrid`, the private network from net.private and the
// profile's role, and prints it; its up.d hook reads lvs.vrid again over
// live DNS. The same overlay goes into a Debian role:
//
//	provision image build lvs --debian bookworm --packages keepalived,ipvsadm --overlay roles/lvs/overlay
//
// DebianRoot with Disk builds the root of a disk image instead, which is
// deployed to the machines' disks and boots its own kernel and GRUB:
//
//	provision image build bookworm --debian bookworm --kind disk
//
// BusyboxRootfs makes a root of busybox, an /sbin/init that runs the hooks
// and reports, and an overlay: a root of about 1 MiB that boots in seconds.
package roles
