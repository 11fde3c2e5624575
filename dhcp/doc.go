// Package dhcp is the appliance's DHCPv4 server (RFC 2131, RFC 2132), built
// on github.com/insomniacslk/dhcp.
//
// The design follows smee's summary, Server(listener, handler(backend)):
//
//   - Reply is a pure function of a request and an Env (the configuration,
//     an in-memory Hosts snapshot, the dynamic-pool Leases and the time).
//     It never touches a socket, the clock or a database.
//   - Server owns the socket loop: it parses packets, applies a per-MAC rate
//     limit, calls Reply, sends the answer where RFC 2131 §4.1 says, and
//     reports boot and discovery events through a buffered channel so a slow
//     consumer never delays a reply.
//   - MemoryLeases is an in-memory dynamic pool that never hands out a
//     reserved address; it reports every binding change to a persist
//     callback that must only enqueue.
//
// What a client gets:
//
//	registered MAC      -> its reserved IP, mask (1), router (3), DNS (6),
//	                       host name (12), domain (15), lease time (51, 58, 59)
//	unknown MAC         -> silence (logged once per MAC per minute), or a pool
//	                       lease and a Discovery event where the subnet has a pool
//	PXE/HTTP/iPXE client -> siaddr, file, options 66 and 67 (see below)
//
// A client's network is found from giaddr (relayed), else ciaddr (a
// RENEWING or DHCPINFORM unicast), else Config.ServerIP (the interface the
// server listens on). Replies go where RFC 2131 §4.1 says (see Destination):
// to giaddr:67 when relayed, NAKs broadcast, to ciaddr:68 when set, and
// broadcast otherwise, also in the case where the RFC asks for a unicast to
// yiaddr at chaddr (that would need an ARP entry injected; we broadcast).
//
// Boot files by client (option 93, RFC 4578; option 77, RFC 3004):
//
//	arch 11, 19 (ARM64 UEFI PXE, HTTP), any loader:
//	  with Config.ARM64               -> that file (its URL for 19)
//	  without                         -> address only, ErrNoBootFile (logged)
//	profile loader "pxelinux":
//	  arch 0 (BIOS), PXE ROM or iPXE  -> lpxelinux.0
//	  arch 7, 9 (x86-64 UEFI PXE)     -> syslinux.efi
//	  arch 16 or class "HTTPClient"   -> address only, ErrNoBootFile (logged)
//	  any other arch                  -> address only
//	profile loader "grub" (x86-64 UEFI; BIOS and iPXE as below):
//	  arch 7, 9, Secure Boot          -> shimx64.efi (which loads grubx64.efi)
//	  arch 7, 9                       -> grubx64.efi
//	  arch 16 or class "HTTPClient"   -> address only, ErrNoBootFile (logged)
//	user class "iPXE"                 -> HTTPBase + "/boot.ipxe"
//	arch 0 (BIOS)                     -> undionly.kpxe
//	arch 7, 9 (x86-64 UEFI)           -> ipxe.efi
//	arch 16 or class "HTTPClient"     -> HTTPBase + "/ipxe.efi", option 60 echoed
//	any other arch (IA32 ...)         -> address only
//
// In proxy mode (Config.Proxy) the same files go to PXE and HTTP boot
// clients only, with no address (see proxy), and iPXE's script is named
// by MAC (/boot/MAC.ipxe), since the address is another server's.
//
// A PXE client's class, "PXEClient", is echoed in option 60 with option
// 43 holding PXE discovery control 8 (boot the file named, no boot server
// discovery), as the PXE spec and smee do: EDK II's PXE (OVMF, and most
// UEFI firmware) takes a "PXEClient" offer without option 43 for a BINL
// offer, asks port 4011 for its boot file and gives up (PXE-E16).
//
// Clients that send neither option 93, a PXEClient/HTTPClient class, nor
// the iPXE user class (an installed OS) get no boot file.
//
// A pxelinux host gets lpxelinux.0, not pxelinux.0: the generated
// pxelinux.cfg/01-<mac> (package tftp) names the kernel and initrd by HTTP
// URL on the appliance, and only lpxelinux, with its own TCP/IP stack,
// fetches HTTP from a plain PXE ROM. Its firmware is not in the profile, so
// the client's architecture decides, and iPXE (a NIC's iPXE ROM) gets
// lpxelinux.0 rather than the iPXE script: iPXE runs it as a PXE NBP, and
// lpxelinux reads iPXE's DHCP answer instead of asking again, so there is
// no loop. lpxelinux.0 and syslinux.efi load ldlinux.c32 and ldlinux.e64
// from their own TFTP directory. UEFI HTTP boot cannot
// start syslinux.efi (it reads its files through the PXE base code), so
// such a client gets only its address, and Reply's error (ErrNoBootFile)
// is logged.
package dhcp
