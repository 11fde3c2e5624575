package dnsconf

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// wire packs a query for lvs.vrid.dsas. TXT, edited by edit, then by raw.
func wire(t *testing.T, edit func(*dns.Msg), raw func([]byte) []byte) []byte {
	t.Helper()
	m := query("lvs.vrid.dsas.", dns.TypeTXT)
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		b = raw(b)
	}
	return b
}

// rawTCP sends b over TCP and returns the reply, or nil when the server
// closes the connection instead.
func rawTCP(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		t.Fatal(err)
	}
	var n uint16
	if err := binary.Read(c, binary.BigEndian, &n); err != nil {
		return nil
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(c, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// summary is what the conformance cases compare: rcode, counts, OPT.
func summary(t *testing.T, b []byte) string {
	t.Helper()
	if b == nil {
		return "no reply"
	}
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	return fmt.Sprintf("%s id=%d qd=%d an=%d ns=%d opt=%t", dns.RcodeToString[m.Rcode], m.Id, len(m.Question), len(m.Answer), len(m.Ns), m.IsEdns0() != nil)
}

// Malformed queries get FORMERR on the wire, as from NSD 4.6 (checked
// by hand with the same packets), over UDP and TCP, and a FORMERR to a
// query with one valid OPT record carries ours (RFC 6891 7).
func TestConformanceOnTheWire(t *testing.T) {
	srv := newServer(t)
	if _, err := srv.Update(testSource(), 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	edns := func(m *dns.Msg) { m.SetEdns0(1232, false) }
	both := func(fs ...func(*dns.Msg)) func(*dns.Msg) {
		return func(m *dns.Msg) {
			for _, f := range fs {
				f(m)
			}
		}
	}
	answer := withAnswer(t)
	// A pointer into the header as the question's name (offset 2), the
	// question's type and class, then what followed the name (the OPT).
	intoHeader := func(b []byte) []byte {
		return append(append(append([]byte{}, b[:12]...), 0xc0, 0x02, 0, 16, 0, 1), b[12+len("lvs.vrid.dsas.")+1+4:]...)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"plain", wire(t, nil, nil), "NOERROR id=4711 qd=1 an=1 ns=0 opt=false"},
		{"no question, EDNS0", wire(t, both(edns, func(m *dns.Msg) { m.Question = nil }), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"two questions, EDNS0", wire(t, both(edns, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"an answer record", wire(t, answer, nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"an answer record, EDNS0", wire(t, both(answer, edns), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"an authority record, EDNS0", wire(t, both(edns, func(m *dns.Msg) { m.Ns = []dns.RR{mustRR(t, soa)} }), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"rcode NXDOMAIN", wire(t, func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }, nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"rcode NXDOMAIN, EDNS0", wire(t, both(edns, func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"OPT not at the root", wire(t, both(edns, func(m *dns.Msg) { m.Extra[0].Header().Name = "dsas." }), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"two OPT records", wire(t, both(edns, edns), nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"a pointer into the header", wire(t, nil, intoHeader), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"a pointer into the header, EDNS0", wire(t, edns, intoHeader), "FORMERR id=4711 qd=0 an=0 ns=0 opt=true"},
		{"cut short", wire(t, edns, func(b []byte) []byte { return b[:len(b)-3] }), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
		{"opcode STATUS", wire(t, func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }, nil), "NOTIMP id=4711 qd=0 an=0 ns=0 opt=false"},
		// After "plain", its answer is prepared: the fast path must not
		// take the same question with an rcode.
		{"rcode REFUSED, a prepared question", wire(t, func(m *dns.Msg) { m.Rcode = dns.RcodeRefused }, nil), "FORMERR id=4711 qd=0 an=0 ns=0 opt=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				var got string
				if network == "udp" {
					got = summary(t, rawExchange(t, addr, tc.b))
				} else {
					got = summary(t, rawTCP(t, addr, tc.b))
				}
				if got != tc.want {
					t.Errorf("%s: %s, want %s", network, got, tc.want)
				}
			}
		})
	}
}
