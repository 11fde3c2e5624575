package dhcp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/provision/provision/internal/testenv"
)

func TestReplyProxy(t *testing.T) {
	proxyOn := func(c *Config) { c.Proxy = true }
	proxyAll := func(c *Config) { c.Proxy, c.ProxyAll = true, true }
	// A proxy answer: no address, no lease, no network options; the boot
	// file, option 60 naming the kind of offer and, for PXE, option 43.
	proxied := func(t opts, file, class string) *view {
		o := opts{54: "Server Identifier: 10.0.0.1", 60: "Class Identifier: " + class}.with(t).with(tftpBoot(file))
		if class == "PXEClient" {
			o = o.with(opts{43: "Vendor Specific Information: [6 1 8 255]"})
		}
		return &view{YIAddr: "0.0.0.0", CIAddr: "0.0.0.0", SIAddr: "10.0.0.1", GIAddr: "0.0.0.0", File: file, Opts: o}
	}
	biosPXE := class("PXEClient:Arch:00000:UNDI:002001")
	fromClient := dhcpv4.WithClientIP(ip("10.0.0.77").AsSlice()) // the address the other server gave
	runReplyCases(t, []replyCase{{
		name:   "a registered BIOS PXE client gets undionly.kpxe and no address",
		config: proxyOn,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb, arch(iana.INTEL_X86PC), biosPXE) },
		want:   proxied(offer, "undionly.kpxe", "PXEClient"),
	}, {
		name:   "x86-64 UEFI PXE gets ipxe.efi",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: proxied(offer, "ipxe.efi", "PXEClient"),
	}, {
		name:   "EFI BC (9) gets ipxe.efi",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_BC), class("PXEClient:Arch:00009:UNDI:003016"))
		},
		want: proxied(offer, "ipxe.efi", "PXEClient"),
	}, {
		name:   "a Secure Boot host's UEFI PXE gets shim",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macSB, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007:UNDI:003016"))
		},
		want: proxied(offer, "shimx64.efi", "PXEClient"),
	}, {
		name:   "ARM64 gets the ARM64 loader when there is one",
		config: func(c *Config) { c.Proxy, c.ARM64 = true, "ipxe-arm64.efi" },
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_ARM64), class("PXEClient:Arch:00011:UNDI:003000"))
		},
		want: proxied(offer, "ipxe-arm64.efi", "PXEClient"),
	}, {
		name:   "UEFI HTTP boot gets the URL of ipxe.efi, HTTPClient and no option 43",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016:UNDI:003001"))
		},
		want: proxied(offer, "http://10.0.0.1:8080/ipxe.efi", "HTTPClient"),
	}, {
		name:   "iPXE gets its script by MAC, and no no-pxedhcp (it must wait for this offer)",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.INTEL_X86PC), dhcpv4.WithUserClass("iPXE", false), biosPXE)
		},
		want: proxied(offer, "http://10.0.0.1:8080/boot/02:00:00:00:00:01.ipxe", "PXEClient"),
	}, {
		name:   "a pxelinux host gets lpxelinux.0",
		config: proxyOn,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macPXL, arch(iana.INTEL_X86PC), biosPXE) },
		want:   proxied(offer, "lpxelinux.0", "PXEClient"),
	}, {
		name:   "the next server of the host's subnet",
		config: proxyOn,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macRemote, arch(iana.INTEL_X86PC), biosPXE) },
		want: func() *view {
			v := proxied(offer, "undionly.kpxe", "PXEClient")
			v.SIAddr, v.Opts = "10.0.0.2", v.Opts.with(opts{66: "TFTP Server Name: 10.0.0.2"})
			return v
		}(),
	}, {
		name:   "the PXE client's UUID (option 97) is echoed",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, biosPXE, dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
		},
		want: proxied(offer.with(opts{97: "Client Machine Identifier: [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16]"}), "undionly.kpxe", "PXEClient"),
	}, {
		name:    "an unknown MAC is not answered",
		config:  proxyOn,
		req:     func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew, arch(iana.INTEL_X86PC), biosPXE) },
		wantErr: ErrUnknownMAC,
	}, {
		name:   "an unknown MAC is answered with ProxyAll",
		config: proxyAll,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macNew, arch(iana.INTEL_X86PC), biosPXE) },
		want:   proxied(offer, "undionly.kpxe", "PXEClient"),
	}, {
		name:   "an ordinary DHCP client, registered, is the other server's",
		config: proxyAll,
		req:    func(t *testing.T) *dhcpv4.DHCPv4 { return discoverPkt(t, macWeb) },
	}, {
		name:   "an architecture without a loader gets nothing, and says why",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, arch(iana.EFI_ARM64), class("PXEClient:Arch:00011:UNDI:003000"))
		},
		wantErr: ErrNoBootFile,
	}, {
		name:   "the request to port 4011 (ciaddr, no server ID) gets an ACK with the boot file",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, fromClient, arch(iana.INTEL_X86PC), biosPXE)
		},
		want: func() *view {
			v := proxied(ack, "undionly.kpxe", "PXEClient")
			v.CIAddr = "10.0.0.77"
			return v
		}(),
	}, {
		name:   "a request naming this server gets an ACK",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, fromClient, serverID("10.0.0.1"), dhcpv4.WithUserClass("iPXE", false), biosPXE)
		},
		want: func() *view {
			v := proxied(ack, "http://10.0.0.1:8080/boot/02:00:00:00:00:01.ipxe", "PXEClient")
			v.CIAddr = "10.0.0.77"
			return v
		}(),
	}, {
		name:   "a request for the address server is not ours",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.77"), serverID("10.0.0.254"), biosPXE)
		},
	}, {
		name:   "an INIT-REBOOT request (no server ID, no ciaddr) is not ours",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.77"), biosPXE)
		},
	}, {
		name:   "a release is not ours",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return packet(t, dhcpv4.MessageTypeRelease, macWeb, fromClient, serverID("10.0.0.254"))
		},
	}, {
		name:   "a relayed client gets the relay's giaddr kept",
		config: proxyOn,
		req: func(t *testing.T) *dhcpv4.DHCPv4 {
			return discoverPkt(t, macWeb, biosPXE, dhcpv4.WithRelay(ip("10.0.5.1").AsSlice()))
		},
		want: func() *view {
			v := proxied(offer, "undionly.kpxe", "PXEClient")
			v.GIAddr = "10.0.5.1"
			return v
		}(),
	}})
}

// In proxy mode the server answers a PXE client's request to its boot
// server port (ServePXE) at the address and port it came from, and reports
// its offers as well as its ACKs, marked Proxy.
func TestServerProxyPort(t *testing.T) {
	h := startServer(t, loopNet, func(c *Config) { c.Proxy = true })
	pxe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, func(ctx context.Context) error { return h.srv.ServePXE(ctx, pxe) })
	client, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	biosPXE := class("PXEClient:Arch:00000:UNDI:002001")
	offer := h.exchange(t, discoverPkt(t, macWeb, viaLoop, arch(iana.INTEL_X86PC), biosPXE))
	if offer.MessageType() != dhcpv4.MessageTypeOffer || !offer.YourIPAddr.IsUnspecified() || offer.BootFileName != "undionly.kpxe" {
		t.Fatalf("proxy offer %s", offer.Summary())
	}
	req := packet(t, dhcpv4.MessageTypeRequest, macWeb, dhcpv4.WithClientIP(net.IPv4(127, 0, 0, 77)), arch(iana.INTEL_X86PC), biosPXE)
	if _, err := client.WriteTo(req.ToBytes(), pxe.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := client.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer from the boot server port at the client's own port: %v", err)
	}
	ack, err := dhcpv4.FromBytes(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	if ack.MessageType() != dhcpv4.MessageTypeAck || ack.ClientIPAddr.String() != "127.0.0.77" || ack.BootFileName != "undionly.kpxe" {
		t.Fatalf("boot server ACK %s", ack.Summary())
	}
	h.waitEvents(t, 2)
	boots, found := h.events.snapshot()
	want := []BootEvent{
		{Time: t0, MAC: macWeb, Host: "h1", BootFile: "undionly.kpxe", Proxy: true},
		{Time: t0, MAC: macWeb, IP: ip("127.0.0.77"), Host: "h1", BootFile: "undionly.kpxe", Proxy: true},
	}
	byIP := cmpopts.SortSlices(func(a, b BootEvent) bool { return a.IP.Less(b.IP) }) // two goroutines report them
	if diff := cmp.Diff(want, boots, byIP, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" || len(found) != 0 {
		t.Errorf("boot events (-want +got):\n%s\ndiscoveries: %v", diff, found)
	}
}
