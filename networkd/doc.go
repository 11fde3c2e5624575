// Package networkd writes systemd-networkd configuration for a machine's
// interfaces: .netdev files that create its bonds and VLANs, and .network
// files that put NICs in their bond, VLANs on their parent, and addresses,
// gateway and name servers on the interfaces that carry them (see
// systemd.netdev(5) and systemd.network(5)). It is a pure format package:
// Files turns a list of Links into file names and contents.
//
// A physical NIC is matched by its permanent MAC ([Match]
// PermanentMACAddress=: a bond member's current MAC becomes the bond's)
// and keeps the name the kernel and udev give it: a Link's name for a
// physical NIC is only a label (renaming NICs to kernel-style ethN with
// .link files races the kernel's own names). Bonds and VLANs are created
// with their Link names. NICs that no Link uses are left alone.
//
// For active-backup over eth0 and eth1 carrying 10.0.0.11/24, with VLAN
// 100 on the bond:
//
//	10-bond0.netdev        [NetDev] Name=bond0 Kind=bond; [Bond] Mode=active-backup MIIMonitorSec=100ms
//	10-bond0.100.netdev    [NetDev] Name=bond0.100 Kind=vlan; [VLAN] Id=100
//	20-bond0.100.network   [Match] Name=bond0.100; [Network] Address=...
//	20-bond0.network       [Match] Name=bond0; [Network] Address=10.0.0.11/24 Gateway=... DNS=... VLAN=bond0.100
//	20-eth0.network        [Match] PermanentMACAddress=...; [Link] RequiredForOnline=no; [Network] Bond=bond0
//	20-eth1.network        (the same for eth1)
//
// The layout follows netplan's networkd renderer: members and address-less
// parents get LinkLocalAddressing=no, bonds and VLANs
// ConfigureWithoutCarrier=yes. For systemd-networkd-wait-online, a bond
// member is not required (RequiredForOnline=no: its bond stands for it,
// so one NIC without link does not hold the boot) and a link without an
// address of its own is online with carrier (RequiredForOnline=carrier).
package networkd
