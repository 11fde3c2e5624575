package dhcp

import (
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

// BenchmarkPacket is the per-packet work of the server without the
// socket: parse, Reply, serialize.
func BenchmarkPacket(b *testing.B) {
	env, _ := newEnv()
	raw := discoverPkt(b, macWeb, arch(iana.EFI_X86_64), class("PXEClient:Arch:00007")).ToBytes()
	b.ReportAllocs()
	for b.Loop() {
		req, err := dhcpv4.FromBytes(raw)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := Reply(req, env)
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.ToBytes()
	}
}
