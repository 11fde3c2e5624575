package dhcp

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// FuzzReply feeds arbitrary bytes through dhcpv4.FromBytes and Reply: no
// panic, and any reply is a well-formed BOOTREPLY to the same transaction.
func FuzzReply(f *testing.F) {
	relay := dhcpv4.WithRelay(ip("10.0.5.1").AsSlice())
	for _, p := range []*dhcpv4.DHCPv4{
		discoverPkt(f, macWeb),
		discoverPkt(f, macWeb, arch(iana.INTEL_X86PC), class("PXEClient:Arch:00000:UNDI:002001")),
		discoverPkt(f, macWeb, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016")),
		discoverPkt(f, macPXL, dhcpv4.WithUserClass("iPXE", false)),
		discoverPkt(f, macRemote, relay),
		discoverPkt(f, macNew),
		packet(f, dhcpv4.MessageTypeRequest, macWeb, requested("10.0.0.10"), serverID("10.0.0.1")),
		packet(f, dhcpv4.MessageTypeRequest, macNew, requested("10.0.0.101")),
		packet(f, dhcpv4.MessageTypeRequest, macWeb, dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice())),
		packet(f, dhcpv4.MessageTypeInform, macWeb, dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice())),
		packet(f, dhcpv4.MessageTypeRelease, macNew, dhcpv4.WithClientIP(ip("10.0.0.101").AsSlice())),
		packet(f, dhcpv4.MessageTypeDecline, macNew, requested("10.0.0.101")),
	} {
		f.Add(p.ToBytes())
	}
	f.Add([]byte{})
	f.Add([]byte("not dhcp"))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := dhcpv4.FromBytes(b)
		if err != nil {
			return
		}
		env, _ := newEnv()
		resp, _ := Reply(req, env)
		if resp == nil {
			return
		}
		if resp.OpCode != dhcpv4.OpcodeBootReply || resp.TransactionID != req.TransactionID {
			t.Fatalf("reply %s does not answer %s", resp, req)
		}
		if _, err := dhcpv4.FromBytes(resp.ToBytes()); err != nil {
			t.Fatalf("reply does not parse back: %v", err)
		}
		if d := Destination(req, resp, ClientPort, ServerPort); !d.IsValid() || !d.Addr().Is4() {
			t.Fatalf("destination %s", d)
		}
	})
}
