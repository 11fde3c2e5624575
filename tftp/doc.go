// Package tftp is the appliance's read-only TFTP server (RFC 1350, with the
// option extension of RFC 2347, blksize of RFC 2348 and tsize and timeout
// of RFC 2349, answered as tftpd-hpa answers them). It serves boot loaders
// from a directory and generates per-host boot configs on request from the
// current host data, so a change in the registry is visible at the next
// request with no sync step.
//
// Names a client may ask for:
//
//	undionly.kpxe, ipxe.efi, lpxelinux.0, ...  a regular file under Config.Root
//	pxelinux.cfg/01-aa-bb-cc-dd-ee-ff         PXELINUX config of that host (generated)
//	pxelinux.cfg/default                      PXELINUX fallback: boot the local disk
//	grub/grub.cfg-01-aa-bb-cc-dd-ee-ff        GRUB config of that host (generated; also at the root)
//	grub/grub.cfg                             GRUB fallback: the MAC-named config, else local disk
//	images/IMAGE/kernel, images/IMAGE/initrd  an image's files (Config.Images), for GRUB
//
// The generated names are canonical: exactly as lpxelinux.0 and
// syslinux.efi (served from the root) and Debian's signed GRUB (prefix
// /grub) ask for them, with at most one leading "/" and the MAC in
// lower-case hex. Any other spelling ("x/pxelinux.cfg/01-...") is a plain
// file name, so a client cannot put a name of its choosing on a host's
// timeline. Names and a client's error text are reported (Config.OnTransfer,
// the log) without control characters.
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
// Write requests get TFTP error 2, modes other than octet and netascii
// (in any case) error 4.
//
// The server reads requests itself and sends each file from a socket of
// its own (the transfer's TID). Transfers are limited against floods of
// forged requests: MaxTransfers in all and MaxPerClient from one address;
// a transfer whose client has not yet acknowledged anything gives way to a
// new request when all slots are taken, and under pressure (more than half
// taken) is dropped after FirstACKTimeout. A request refused as busy costs
// no socket and no file.
//
// Every request, served or refused, is reported once to Config.OnTransfer and
// logged once; requests refused at the request port (busy, a write, an
// unknown mode, a malformed packet) are answered every time but reported
// at most once a second per client, after a burst of 5.
package tftp
