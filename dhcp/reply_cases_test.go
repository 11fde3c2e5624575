package dhcp

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// replyCase is one request and the reply it must get (nil: silence).
type replyCase struct {
	name    string
	config  func(c *Config)             // changes to testConfig, e.g. Proxy
	setup   func(t *testing.T, env Env) // e.g. an earlier DHCPOFFER
	req     func(t *testing.T) *dhcpv4.DHCPv4
	want    *view
	wantErr error // for silence: the reason, nil when silence is normal; with want: what the reply lacks (ErrNoBootFile)
}

func TestReplyReservations(t *testing.T) {
	runReplyCases(t, []replyCase{{
		name: "discover of a registered MAC gets its reservation",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb) },
		want: &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(web01)},
	}, {
		name: "request in SELECTING gets an ACK",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.10"), serverID("10.0.0.1"))
		},
		want: &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(ack).with(web01)},
	}, {
		name: "renewal from ciaddr echoes ciaddr",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice()))
		},
		want: &view{YIAddr: "10.0.0.10", CIAddr: "10.0.0.10", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(ack).with(web01)},
	}, {
		name: "a registered MAC requesting another address gets NAK",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.77"))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name: "a request meant for another server gets silence",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.10"), serverID("10.0.0.9"))
		},
	}, {
		name: "hostname option wins over the registry name",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL) },
		want: &view{YIAddr: "10.0.0.11", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(opts{12: "Host Name: pxl01.lab.example"})},
	}, {
		name: "inform gets an ACK without yiaddr nor lease time",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeInform, macWeb, dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice()))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "10.0.0.10", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(ack).with(web01).with(opts{51: "", 58: "", 59: ""})},
	}, {
		name:    "inform without ciaddr is malformed",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return packet(t, dhcpv4.MessageTypeInform, macWeb) },
		wantErr: ErrMalformed,
	}, {
		name: "release of a reservation changes nothing",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRelease, macWeb, dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice()))
		},
	}, {
		name: "decline of a reservation is reported",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeDecline, macWeb, requested("10.0.0.10"), serverID("10.0.0.1"))
		},
		wantErr: ErrDeclined,
	}, {
		name: "client identifier and relay info are echoed",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, dhcpv4.WithGeneric(dhcpv4.OptionClientIdentifier, []byte{1, 2, 0, 0, 0, 0, 1}))
		},
		want: &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(web01).with(opts{61: "Client identifier: [1 2 0 0 0 0 1]"})},
	}})
}

func TestReplyBootFiles(t *testing.T) {
	boot := func(file string) *view {
		return &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "10.0.0.1", GIAddr: "0.0.0.0", File: file,
			Opts: labLease.with(offer).with(web01).with(tftpBoot(file))}
	}
	withClass := func(v *view, c string) *view {
		v.Opts = v.Opts.with(opts{60: "Class Identifier: " + c})
		if c == "PXEClient" { // and PXE discovery control: boot the file named
			v.Opts = v.Opts.with(opts{43: "Vendor Specific Information: [6 1 8 255]"})
		}
		return v
	}
	noProxyDHCP := func(v *view) *view { // option 175: iPXE's no-pxedhcp
		v.Opts = v.Opts.with(opts{175: "Etherboot: [176 1 1]"})
		return v
	}
	onHost := func(v *view, yiaddr string, o opts) *view {
		v.YIAddr = yiaddr
		v.Opts = v.Opts.with(o)
		return v
	}
	pxl := func(v *view) *view { return onHost(v, "10.0.0.11", opts{12: "Host Name: pxl01.lab.example"}) }
	grub := func(v *view, yiaddr, name string) *view { return onHost(v, yiaddr, opts{12: "Host Name: " + name}) }
	withARM64 := func(c *Config) { c.ARM64 = "ipxe-arm64.efi" }
	addressOnly := func() *view {
		return &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(web01)}
	}
	pxlAddressOnly := func() *view {
		return &view{YIAddr: "10.0.0.11", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(opts{12: "Host Name: pxl01.lab.example"})}
	}
	runReplyCases(t, []replyCase{{
		name: "BIOS PXE gets undionly.kpxe",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.INTEL_X86PC), class("PXEClient:Arch:00000:UNDI:002001"))
		},
		want: withClass(boot("undionly.kpxe"), "PXEClient"),
	}, {
		name: "PXEClient without option 93 is taken for BIOS",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, class("PXEClient")) },
		want: withClass(boot("undionly.kpxe"), "PXEClient"),
	}, {
		name: "x86-64 UEFI (7) gets ipxe.efi",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: withClass(boot("ipxe.efi"), "PXEClient"),
	}, {
		name: "EFI BC (9) gets ipxe.efi",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, arch(iana.EFI_BC)) },
		want: boot("ipxe.efi"),
	}, {
		name: "UEFI HTTP boot gets the URL of ipxe.efi and HTTPClient echoed",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016:UNDI:003001"))
		},
		want: withClass(boot("http://10.0.0.1:8080/ipxe.efi"), "HTTPClient"),
	}, {
		name: "iPXE gets the URL of its script, not itself",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_X86_64), dhcpv4.WithUserClass("iPXE", false), class("PXEClient:Arch:00007:UNDI:003010"))
		},
		want: noProxyDHCP(withClass(boot("http://10.0.0.1:8080/boot.ipxe"), "PXEClient")),
	}, {
		name: "iPXE with an RFC 3004 user class too",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.INTEL_X86PC), dhcpv4.WithUserClass("iPXE", true))
		},
		want: noProxyDHCP(boot("http://10.0.0.1:8080/boot.ipxe")),
	}, {
		name: "a pxelinux host's BIOS PXE ROM gets lpxelinux.0, which fetches HTTP URLs",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macPXL, arch(iana.INTEL_X86PC), class("PXEClient:Arch:00000:UNDI:002001"))
		},
		want: pxl(withClass(boot("lpxelinux.0"), "PXEClient")),
	}, {
		name: "a pxelinux host's PXEClient without option 93 gets lpxelinux.0",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, class("PXEClient")) },
		want: pxl(withClass(boot("lpxelinux.0"), "PXEClient")),
	}, {
		name: "a pxelinux host's BIOS iPXE gets lpxelinux.0, not the iPXE script",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macPXL, arch(iana.INTEL_X86PC), dhcpv4.WithUserClass("iPXE", false), class("PXEClient:Arch:00000:UNDI:002001"))
		},
		want: pxl(noProxyDHCP(withClass(boot("lpxelinux.0"), "PXEClient"))),
	}, {
		name: "a pxelinux host's ACK carries lpxelinux.0 too",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macPXL, requested("10.0.0.11"), arch(iana.INTEL_X86PC))
		},
		want: &view{YIAddr: "10.0.0.11", CIAddr: "0.0.0.0", SIAddr: "10.0.0.1", GIAddr: "0.0.0.0", File: "lpxelinux.0",
			Opts: labLease.with(ack).with(opts{12: "Host Name: pxl01.lab.example"}).with(tftpBoot("lpxelinux.0"))},
	}, {
		name: "a pxelinux host's x86-64 UEFI PXE (7) gets syslinux.efi",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macPXL, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: pxl(withClass(boot("syslinux.efi"), "PXEClient")),
	}, {
		name: "a pxelinux host's EFI BC (9) gets syslinux.efi",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, arch(iana.EFI_BC)) },
		want: pxl(boot("syslinux.efi")),
	}, {
		name: "a pxelinux host's UEFI iPXE gets syslinux.efi",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macPXL, arch(iana.EFI_X86_64), dhcpv4.WithUserClass("iPXE", false))
		},
		want: pxl(noProxyDHCP(boot("syslinux.efi"))),
	}, {
		name: "a pxelinux host's UEFI HTTP boot (16) is refused: address only, and why",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macPXL, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016:UNDI:003001"))
		},
		want:    pxlAddressOnly(),
		wantErr: ErrNoBootFile,
	}, {
		name:    "a pxelinux host's HTTPClient without option 93 is refused",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, class("HTTPClient")) },
		want:    pxlAddressOnly(),
		wantErr: ErrNoBootFile,
	}, {
		name: "a pxelinux host on another architecture gets an address only",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, arch(iana.EFI_IA32)) },
		want: pxlAddressOnly(),
	}, {
		name: "netboot disabled still gets address and boot file",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macOff, arch(iana.EFI_X86_64)) },
		want: onHost(boot("ipxe.efi"), "10.0.0.12", opts{12: "Host Name: off01"}),
	}, {
		name: "an unsupported architecture (IA32 UEFI) gets an address only",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, arch(iana.EFI_IA32)) },
		want: addressOnly(),
	}, {
		name:    "ARM64 UEFI (11) without an ARM64 loader gets an address only, and why",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, arch(iana.EFI_ARM64)) },
		want:    addressOnly(),
		wantErr: ErrNoBootFile,
	}, {
		name:   "ARM64 UEFI (11) gets the ARM64 loader of the boot files",
		config: withARM64,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_ARM64), class("PXEClient:Arch:00011:UNDI:003000"))
		},
		want: withClass(boot("ipxe-arm64.efi"), "PXEClient"),
	}, {
		name:   "ARM64 UEFI HTTP boot (19) gets its URL",
		config: withARM64,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_ARM64_HTTP), class("HTTPClient:Arch:00019:UNDI:003000"))
		},
		want: withClass(boot("http://10.0.0.1:8080/ipxe-arm64.efi"), "HTTPClient"),
	}, {
		name:   "ARM64 gets the ARM64 loader whatever the host's loader",
		config: withARM64,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, arch(iana.EFI_ARM64)) },
		want:   pxl(boot("ipxe-arm64.efi")),
	}, {
		name:   "ARM64 iPXE gets its script",
		config: withARM64,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_ARM64), dhcpv4.WithUserClass("iPXE", false))
		},
		want: noProxyDHCP(boot("http://10.0.0.1:8080/boot.ipxe")),
	}, {
		name: "a grub host's x86-64 UEFI PXE gets Debian's signed GRUB",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macGRUB, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: grub(withClass(boot("grubx64.efi"), "PXEClient"), "10.0.0.13", "grub01"),
	}, {
		name: "a Secure Boot host's x86-64 UEFI PXE gets shim first",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macSB, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: grub(withClass(boot("shimx64.efi"), "PXEClient"), "10.0.0.14", "sb01"),
	}, {
		name: "a Secure Boot host's UEFI HTTP boot is refused: the signed GRUB has no HTTP",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macSB, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016:UNDI:003001"))
		},
		want: &view{YIAddr: "10.0.0.14", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: labLease.with(offer).with(opts{12: "Host Name: sb01"})},
		wantErr: ErrNoBootFile,
	}, {
		name: "a grub host's BIOS takes the iPXE path (no Secure Boot on a BIOS)",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macSB, arch(iana.INTEL_X86PC), class("PXEClient:Arch:00000:UNDI:002001"))
		},
		want: grub(withClass(boot("undionly.kpxe"), "PXEClient"), "10.0.0.14", "sb01"),
	}, {
		name: "a grub host's iPXE gets the script",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macGRUB, arch(iana.EFI_X86_64), dhcpv4.WithUserClass("iPXE", false))
		},
		want: grub(noProxyDHCP(boot("http://10.0.0.1:8080/boot.ipxe")), "10.0.0.13", "grub01"),
	}, {
		name: "the ACK carries the boot file too",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.10"), arch(iana.EFI_X86_64))
		},
		want: &view{YIAddr: "10.0.0.10", CIAddr: "0.0.0.0", SIAddr: "10.0.0.1", GIAddr: "0.0.0.0", File: "ipxe.efi",
			Opts: labLease.with(ack).with(web01).with(tftpBoot("ipxe.efi"))},
	}})
}

func TestReplyRelays(t *testing.T) {
	remoteLease := opts{
		1: "Subnet Mask: ffffff00", 3: "Router: 10.0.5.1", 6: "Domain Name Server: 10.0.0.1, 10.0.0.53",
		12: "Host Name: remote01", 15: "Domain Name: remote.example", 28: "Broadcast Address: 10.0.5.255", 51: "IP Addresses Lease Time: 24h0m0s",
		54: "Server Identifier: 10.0.0.1", 58: "Renew Time Value: 12h0m0s", 59: "Rebinding Time Value: 21h0m0s",
	}
	relayed := dhcpv4.WithRelay(ip("10.0.5.1").AsSlice())
	runReplyCases(t, []replyCase{{
		name: "the subnet is chosen by giaddr and giaddr is kept",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macRemote, relayed, arch(iana.INTEL_X86PC)) },
		want: &view{YIAddr: "10.0.5.20", CIAddr: "0.0.0.0", SIAddr: "10.0.0.2", GIAddr: "10.0.5.1", File: "undionly.kpxe",
			Opts: remoteLease.with(offer).with(opts{66: "TFTP Server Name: 10.0.0.2", 67: "Bootfile Name: undionly.kpxe"})},
	}, {
		name: "relay info (option 82) is echoed",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macRemote, relayed, dhcpv4.WithOption(dhcpv4.OptRelayAgentInfo(
				dhcpv4.OptGeneric(dhcpv4.AgentCircuitIDSubOption, []byte("ge-0/0/1")))))
		},
		want: &view{YIAddr: "10.0.5.20", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "10.0.5.1",
			Opts: remoteLease.with(offer).with(opts{82: "Relay Agent Information: \n        Agent Circuit ID Sub-option: \"ge-0/0/1\" ([103 101 45 48 47 48 47 49])"})},
	}, {
		name:    "a registered host asking from another subnet gets silence on discover",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, relayed) },
		wantErr: ErrWrongSubnet,
	}, {
		name: "and NAK on request, broadcast by the relay",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, relayed, requested("10.0.0.10"))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "10.0.5.1", Broadcast: true, Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name: "a renewal unicast from a relayed subnet is placed by ciaddr",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macRemote, dhcpv4.WithClientIP(ip("10.0.5.20").AsSlice()))
		},
		want: &view{YIAddr: "10.0.5.20", CIAddr: "10.0.5.20", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0",
			Opts: remoteLease.with(ack)},
	}, {
		name: "a renewal of an address from another subnet gets NAK",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, dhcpv4.WithClientIP(ip("10.0.5.99").AsSlice()))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name:    "an unknown MAC behind a relay without pool gets silence",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew, relayed) },
		wantErr: ErrUnknownMAC,
	}, {
		name: "an unknown MAC on a subnet not served gets silence",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macNew, dhcpv4.WithRelay(ip("192.168.77.1").AsSlice()))
		},
		wantErr: ErrUnknownMAC,
	}, {
		name: "an unknown client's request on a subnet not served gets silence, not NAK",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, dhcpv4.WithRelay(ip("192.168.77.1").AsSlice()), requested("192.168.77.5"))
		},
		wantErr: ErrUnknownMAC,
	}})
}

func TestReplyPool(t *testing.T) {
	offerTo := func(mac string) func(t *testing.T, env Env) {
		return func(t *testing.T, env Env) {
			t.Helper()
			if _, err := Reply(discoverPkt(t, mustMAC(mac)), env); err != nil {
				t.Fatal(err)
			}
		}
	}
	poolLease := labLease
	runReplyCases(t, []replyCase{{
		name: "an unknown MAC on a pool subnet is offered the first unreserved pool address",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew) },
		want: &view{YIAddr: "10.0.0.101", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: poolLease.with(offer)},
	}, {
		name:  "a second MAC gets the next address",
		setup: offerTo("02:00:00:00:00:98"),
		req:   func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew) },
		want:  &view{YIAddr: "10.0.0.102", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: poolLease.with(offer)},
	}, {
		name:  "the offered address is acknowledged",
		setup: offerTo("02:00:00:00:00:99"),
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, requested("10.0.0.101"), serverID("10.0.0.1"))
		},
		want: &view{YIAddr: "10.0.0.101", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: poolLease.with(ack)},
	}, {
		name:  "an address offered to another MAC is refused",
		setup: offerTo("02:00:00:00:00:98"),
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, requested("10.0.0.101"))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name: "a reserved address is refused to a pool client",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, requested("10.0.0.100"))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name: "INIT-REBOOT for a free pool address after a restart is acknowledged",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, requested("10.0.0.105"))
		},
		want: &view{YIAddr: "10.0.0.105", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: poolLease.with(ack)},
	}, {
		name: "a pool client asking for an address off the subnet gets NAK",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macNew, requested("172.16.0.5"))
		},
		want: &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "0.0.0.0", GIAddr: "0.0.0.0", Opts: opts{
			53: "DHCP Message Type: NAK", 54: "Server Identifier: 10.0.0.1",
			56: "Message: requested address not available",
		}},
		wantErr: ErrNAK,
	}, {
		name: "a pool client netboots like any other",
		req:  func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew, arch(iana.EFI_X86_64)) },
		want: &view{YIAddr: "10.0.0.101", CIAddr: "0.0.0.0", SIAddr: "10.0.0.1", GIAddr: "0.0.0.0", File: "ipxe.efi",
			Opts: poolLease.with(offer).with(tftpBoot("ipxe.efi"))},
	}, {
		name:  "a DHCPDECLINE is reported",
		setup: offerTo("02:00:00:00:00:99"),
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeDecline, macNew, requested("10.0.0.101"), serverID("10.0.0.1"))
		},
		wantErr: ErrDeclined,
	}})
}

func TestReplyMalformed(t *testing.T) {
	runReplyCases(t, []replyCase{{
		name: "a BOOTREPLY is not a request",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			p := discoverPkt(t, macWeb)
			p.OpCode = dhcpv4.OpcodeBootReply
			return p
		},
		wantErr: ErrMalformed,
	}, {
		name:    "a hardware address that is not Ethernet",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb[:4]) },
		wantErr: ErrMalformed,
	}, {
		name: "BOOTP without option 53",
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, dhcpv4.WithoutOption(dhcpv4.OptionDHCPMessageType))
		},
		wantErr: ErrMalformed,
	}, {
		name:    "an OFFER sent to the server",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return packet(t, dhcpv4.MessageTypeOffer, macWeb) },
		wantErr: ErrMalformed,
	}, {
		name:    "a request naming no address",
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return packet(t, dhcpv4.MessageTypeRequest, macWeb) },
		wantErr: ErrMalformed,
	}})
}

func runReplyCases(t *testing.T, cases []replyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := newEnv()
			if tc.config != nil {
				tc.config(&env.Config)
			}
			if tc.setup != nil {
				tc.setup(t, env)
			}
			req := tc.req(t)
			resp, err := Reply(req, env)
			if tc.want == nil {
				if resp != nil {
					t.Fatalf("want silence, got %s", resp.Summary())
				}
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if resp == nil || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Reply = %v, %v; want a reply and error %v", resp, err, tc.wantErr)
			}
			checkEnvelope(t, req, resp)
			if diff := cmp.Diff(*tc.want, viewOf(resp)); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

// checkEnvelope checks what every reply must copy from its request.
func checkEnvelope(t *testing.T, req, resp *dhcpv4.DHCPv4) {
	t.Helper()
	if resp.OpCode != dhcpv4.OpcodeBootReply || resp.TransactionID != req.TransactionID ||
		resp.ClientHWAddr.String() != req.ClientHWAddr.String() || resp.HWType != req.HWType {
		t.Errorf("reply envelope %s does not match request %s", resp, req)
	}
	if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
		t.Errorf("reply does not parse back: %v", err)
	}
}

func TestReplyReleaseAndDeclinePoolLeases(t *testing.T) {
	env, leases := newEnv()
	bind := func() {
		t.Helper()
		offer, err := Reply(discoverPkt(t, macNew), env)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := dhcpv4.NewRequestFromOffer(offer)
		if ack, err := Reply(req, env); err != nil || ack.MessageType() != dhcpv4.MessageTypeAck {
			t.Fatalf("Reply(REQUEST) = %v, %v", ack, err)
		}
	}
	state := func() []string {
		var out []string
		for _, l := range leases.Leases() {
			out = append(out, fmt.Sprintf("%s %s %d", l.IP, l.MAC, l.State))
		}
		return out
	}
	bind()
	if diff := cmp.Diff([]string{"10.0.0.101 02:00:00:00:00:99 1"}, state()); diff != "" {
		t.Fatalf("after ACK (-want +got):\n%s", diff)
	}
	release := packet(t, dhcpv4.MessageTypeRelease, macNew, dhcpv4.WithClientIP(ip("10.0.0.101").AsSlice()), serverID("10.0.0.1"))
	if resp, err := Reply(release, env); resp != nil || err != nil {
		t.Fatalf("Reply(RELEASE) = %v, %v; want silence", resp, err)
	}
	if got := state(); len(got) != 0 {
		t.Fatalf("after RELEASE: %v, want no lease", got)
	}
	bind() // gets .102: the cursor lets a freed address rest
	// A DECLINE must name us: without option 54, or naming another server,
	// it quarantines nothing.
	if _, err := Reply(packet(t, dhcpv4.MessageTypeDecline, macNew, requested("10.0.0.102")), env); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Reply(DECLINE without option 54): %v, want ErrMalformed", err)
	}
	if _, err := Reply(packet(t, dhcpv4.MessageTypeDecline, macNew, requested("10.0.0.102"), serverID("10.0.0.9")), env); err != nil {
		t.Fatalf("Reply(DECLINE of another server's offer): %v", err)
	}
	if diff := cmp.Diff([]string{"10.0.0.102 02:00:00:00:00:99 1"}, state()); diff != "" {
		t.Fatalf("after DECLINEs that are not ours (-want +got):\n%s", diff)
	}
	if _, err := Reply(packet(t, dhcpv4.MessageTypeDecline, macNew, requested("10.0.0.102"), serverID("10.0.0.1")), env); !errors.Is(err, ErrDeclined) {
		t.Fatalf("Reply(DECLINE): %v", err)
	}
	if diff := cmp.Diff([]string{"10.0.0.102 02:00:00:00:00:99 3"}, state()); diff != "" {
		t.Fatalf("after DECLINE (-want +got):\n%s", diff)
	}
	if offer, _ := Reply(discoverPkt(t, macOther), env); offer.YourIPAddr.String() == "10.0.0.102" {
		t.Error("a declined address was offered again")
	}
}
