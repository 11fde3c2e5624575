package dnsconf

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer: whatever arrives from the network, Answer never panics and
// its reply always packs, within the limit it was given.
func FuzzAnswer(f *testing.F) {
	for _, m := range []*dns.Msg{
		query("lvs.vrid.dsas.", dns.TypeTXT),
		query("big.dsas.", dns.TypeTXT, withEDNS(4096)),
		query("alias.dsas.", dns.TypeA),
		query("loop1.dsas.", dns.TypeANY),
		query("11.0.0.10.in-addr.arpa.", dns.TypePTR),
		query("dsas.", dns.TypeNS, func(m *dns.Msg) { m.SetEdns0(1232, true) }),
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	z := testZone(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return
		}
		for _, maxUDP := range []int{0, 512, DefaultMaxUDP} {
			m, b := answer(z, req, maxUDP)
			if m == nil {
				continue
			}
			if b == nil {
				if _, err := m.Pack(); err == nil {
					t.Fatalf("no bytes for a reply that packs: %v", m)
				}
				continue
			}
			if limit := udpLimit(req, maxUDP); len(b) > limit {
				t.Fatalf("reply of %d bytes over the limit %d", len(b), limit)
			}
		}
	})
}

// FuzzSplitTXT: any value goes on the wire byte for byte and joins back.
func FuzzSplitTXT(f *testing.F) {
	for _, s := range []string{"", "100", `a"b\c`, "\x00\xff\\065", string(make([]byte, 600))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		rr := &dns.TXT{Hdr: dns.RR_Header{Name: "k.dsas.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: SplitTXT(value)}
		wire := make([]byte, len(value)*2+64)
		end, err := dns.PackRR(rr, wire, 0, nil, false)
		if err != nil {
			t.Fatalf("pack: %v", err)
		}
		back, _, err := dns.UnpackRR(wire[:end], 0)
		if err != nil {
			t.Fatalf("unpack: %v", err)
		}
		if got := JoinTXT(back.(*dns.TXT).Txt); got != value {
			t.Fatalf("JoinTXT = %q, want %q", got, value)
		}
	})
}
