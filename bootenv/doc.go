// Package bootenv builds the boot environment that diskless hosts boot:
// an initramfs that fetches the role's root image into a tmpfs and
// switch_roots to it, the way Warewulf boots node images, with the DSAS
// model's settings from data.cdb and DNS.
//
// Build packs a static busybox (Debian's busybox-static), a static
// zonecfg, kernel modules in load order, /init, the udhcpc script and
// the hook runner (files/) into a gzip-compressed newc cpio archive.
// FromPackage takes the kernel and the NIC and disk modules it needs
// (NICModules, StorageModules, with their dependencies from .modinfo)
// from a Debian kernel package; Program adds a dynamically linked program
// with the libraries ldd names (zstd, for .tar.zst roots). InspectRootfs
// checks a root image (a tar archive, plain or gzip, zstd or xz
// compressed, whose members stay inside the root) and measures the tmpfs
// its files take.
//
// A disk image's boot environment runs the deployer instead of a role: it
// also carries DeployTools (sfdisk, wipefs, blkid, blockdev, mkfs.ext4,
// mkfs.vfat, mdadm under /usr/sbin, zstd under /usr/bin, copied from the
// appliance's machine with their libraries by DeployExtra, and
// /etc/mke2fs.conf) and DeployModules (ext4, vfat and its code pages,
// raid1, md_mod, efivarfs: FromPackage's need). InspectRootfs records
// what a disk image's root needs to boot from a disk (DiskRoot: its
// kernels and initramfs images, grub-install, GRUB for BIOS and UEFI,
// shim), and DiskRoot.Check names what is missing.
//
// # The init
//
// The kernel command line carries, from the appliance's iPXE script:
// provision.host=, provision.zone=, provision.server= (base URL),
// provision.image=, provision.mac=, provision.rootfs.sha256=,
// provision.rootfs.size= and provision.rootfs.unpacked=; the operator may
// add provision.rootfs.url=, provision.cdb.url= (fetch from elsewhere),
// provision.tmpfs= (the root tmpfs's size, as mount -o size= takes it)
// and provision.init= (default /sbin/init). /init then:
//
//  1. loads lib/modules/order and gets a DHCP lease (udhcpc) on the
//     interface with provision.mac=, retrying, rebooting after 10 tries;
//  2. fetches SERVER/zone/data.cdb (3 tries; the boot goes on without);
//  3. fetches the rootfs into a tmpfs of its size with wget -c, so that a
//     retry resumes with a Range request: 8 tries with backoff from 1 s
//     doubling to 30 s, a try stopped when nothing arrives for 30 s
//     (busybox 1.35's wget -T crashes, so a watchdog loop does it);
//  4. checks its size and sha256, refusing a mismatch (3 times, then the
//     boot fails);
//  5. unpacks it (gzip, zstd, xz or plain, by its magic) into a tmpfs of
//     provision.tmpfs=, else unpacked x 1.25 + 64 MiB;
//  6. copies into the new root: data.cdb to /var/lib/provision, zonecfg,
//     busybox and boot-hooks to /usr/lib/provision, boot.env to
//     /etc/provision, the host name to /etc/hostname;
//  7. moves /dev, /proc and /sys into it and switch_roots to the init.
//
// Each step prints "provision: ..." on /dev/console and reports a step to
// SERVER/boot/event (a POST of two lines, step and detail; see
// images.ReportSteps): bootenv, cdb fetched, cdb failed, rootfs retry,
// rootfs refused, rootfs fetched, switched. A step that cannot go on
// reports failed with the reason and reboots after 30 s, so the firmware
// network-boots again: the boot never hangs silently.
//
// # The deployer
//
// With provision.deploy=PLAN-URL (a disk image's build, see package
// kickstart's deploy template), /init sources files/deploy after step 2
// instead of going on: it fetches the plan (the build's rendered
// template, a shell fragment of DEPLOY_* variables and a configure
// function), chooses the layout's disks (first, second, smallest,
// largest, /dev/NAME, serial:S) and checks their sizes, partitions them
// with sfdisk (GPT: BIOS boot, ESP, swap, root; RAID1 by mdadm), makes
// the filesystems, fetches the rootfs onto the new root as step 3 and 4
// do, unpacks it, runs configure, writes fstab (by UUID),
// /etc/default/grub (the profile's kernel arguments less provision.*),
// mdadm.conf and what the boot hooks need, installs the image's GRUB from
// a chroot (BIOS on each disk; UEFI with a boot entry and the removable
// path, on each ESP), posts done with a summary and reboots. It reports
// disk, partitioned, rootfs fetched, unpacked and bootloader; a failure
// posts PLAN-URL/failed with the tail of its log and halts.
//
// # Boot hooks
//
// /usr/lib/provision/boot-hooks is the role's side (files/boot-hooks):
//
//	boot-hooks run   runs /etc/provision/boot.d/* in /var/lib/provision,
//	                 where zonecfg reads ./data.cdb offline; reports hooks
//	boot-hooks up    writes resolv.conf for live DNS, deletes data.cdb,
//	                 runs /etc/provision/up.d/*, reports booted with the
//	                 kernel, firmware and addresses; a deployed system
//	                 (PROVISION_DISK=1 in boot.env) keeps its reports until
//	                 then, and fetches a fresh data.cdb for its next boot
//
// A hook that exits non-zero is named on the console and reported as hook
// failed with its exit code; the others still run. Debian roles run both
// from systemd units (provision image build adds them), busybox roles from
// their /sbin/init (package roles).
package bootenv
