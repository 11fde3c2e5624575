// Package tftp is the appliance's read-only TFTP server (RFC 1350, with the
// option extension of RFC 2347, blksize of RFC 2348 and tsize of RFC 2349),
// built on github.com/pin/tftp/v3. It serves boot loaders from a directory and
// generates per-host boot configs on request from the current host data, so a
// change in the registry is visible at the next request with no sync step.
//
// Names a client may ask for (directories before the last element are free,
// since a boot loader asks relative to its own directory or GRUB prefix):
//
//	undionly.kpxe, ipxe.efi, lpxelinux.0, ...  a regular file under Config.Root
//	pxelinux.cfg/01-aa-bb-cc-dd-ee-ff         PXELINUX config of that host (generated)
//	pxelinux.cfg/default                      PXELINUX fallback: boot the local disk
//	grub.cfg-01-aa-bb-cc-dd-ee-ff             GRUB config of that host (generated)
//	grub.cfg                                  GRUB fallback: the MAC-named config, else local disk
//
// The PXELINUX configs are read by lpxelinux.0 (BIOS) and syslinux.efi
// (UEFI PXE) alike; they name the kernel and initrd as the Hosts give them,
// HTTP URLs on the appliance, which both fetch themselves.
//
// "01" is the ARP hardware type of Ethernet; PXELINUX and GRUB both ask for the
// MAC in lower-case hex joined by "-". An unknown MAC gets "file not found", so
// PXELINUX moves on to its next candidate (IP in hex, then "default") and GRUB
// to grub.cfg-<IP in hex> and then grub.cfg.
//
// Names are confined to the root: a name with a ".." element or a NUL byte is
// refused with TFTP error 2 (access violation). A leading "/" is dropped, as
// tftpd-hpa --secure does, because GRUB always sends one ("/grub/grub.cfg"):
// "/etc/passwd" means Root/etc/passwd and never the host's file. Files are
// opened through os.Root, so a symlink cannot lead out of the root either.
// Write requests get TFTP error 2.
//
// Every request, served or refused, is reported once to Config.OnTransfer and
// logged once.
package tftp
