// Package collect gathers a machine's inventory.Inventory where the
// inventory agent (cmd/provision-agent) runs: in the boot environment's
// busybox initramfs, as root, with no udev and no network tools.
//
//   - CPUs and memory come from github.com/jaypipes/ghw; the disks'
//     list, size, rotation and removability too, with their model,
//     serial and WWN read from sysfs where udev's database (which ghw
//     reads them from) is absent, as it is in the initramfs.
//   - DMI (/sys/class/dmi/id), NICs (/sys/class/net: ghw has neither a
//     NIC's driver nor its link state) and PCI functions
//     (/sys/bus/pci/devices: ghw names them from a pci.ids database the
//     initramfs does not carry) are read from sysfs directly.
//   - LLDP: every physical NIC is brought up and listened to with an
//     AF_PACKET socket for ethertype 0x88cc; the frames are parsed by
//     github.com/google/gopacket/layers (ParseLLDP).
//   - The BMC: github.com/bougou/go-ipmi, in-band over /dev/ipmi0 (its
//     "open" interface), for the LAN channel's settings (BMCLAN) and the
//     creation of the appliance's BMC user (EnrolUser); the same calls
//     run over the LAN against a simulator in the tests.
//
// Collect never fails whole: what it cannot gather is one line of
// Inventory.Errors.
package collect
