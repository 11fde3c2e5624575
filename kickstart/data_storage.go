package kickstart

// Storage is the disk layout a deploy template sees (.Profile.Storage),
// with the defaults filled in: GPT, an ESP, a BIOS boot partition, swap
// when SwapMiB is set, and an ext4 root, on Disks[0] or, with RAID1, on an
// mdadm RAID1 over Disks[0] and Disks[1].
type Storage struct {
	// Disks are selectors the deployer resolves on the machine: "first",
	// "second", "smallest", "largest", a path under /dev/ or
	// "serial:SERIAL". ["first"] by default, ["first", "second"] with RAID1.
	Disks   []string
	RAID1   bool
	SwapMiB int64 // 0: no swap partition
	RootMiB int64 // 0: the rest of the disk
}
