package dnsconf

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rawExchange sends q over UDP and returns the reply's bytes.
func rawExchange(t *testing.T, addr string, q []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// The fast path answers with exactly the slow path's bytes but the ID,
// and a new zone is answered from at once.
func TestFastPathAnswersAsTheSlowPath(t *testing.T) {
	srv := newServer(t)
	src := testSource()
	if _, err := srv.Update(src, 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	withDO := func(m *dns.Msg) { m.SetEdns0(1232, true) }
	cases := map[string]*dns.Msg{
		"txt":            query("lvs.vrid.dsas.", dns.TypeTXT),
		"host txt":       query("rack.web001._host.dsas.", dns.TypeTXT),
		"a":              query("web001.dsas.", dns.TypeA),
		"ptr":            query("11.0.0.10.in-addr.arpa.", dns.TypePTR),
		"nxdomain":       query("nosuch.dsas.", dns.TypeA),
		"nodata":         query("web001.dsas.", dns.TypeMX),
		"refused":        query("example.com.", dns.TypeA),
		"edns":           query("big.dsas.", dns.TypeTXT, withEDNS(4096)),
		"edns do":        query("lvs.vrid.dsas.", dns.TypeTXT, withDO),
		"udp truncated":  query("big.dsas.", dns.TypeTXT),
		"edns truncated": query("huge.dsas.", dns.TypeTXT, withEDNS(1232)),
		"upper case":     query("LVS.vrid.dsas.", dns.TypeTXT),
		"no rd":          query("lvs.vrid.dsas.", dns.TypeTXT, func(m *dns.Msg) { m.RecursionDesired = false }),
	}
	for name, q := range cases {
		q.Id = 0x1111
		wire, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		_, want := reply(srv.Zone(), q, srv.cfg.MaxUDP, false)
		for i, id := range []byte{0x11, 0x22, 0x33} { // the first prepares, the others are served from it
			wire[0], wire[1] = id, id
			got := rawExchange(t, addr, wire)
			if got[0] != id || got[1] != id || !bytes.Equal(got[2:], want[2:]) {
				t.Errorf("%s, query %d: the reply differs from the slow path's", name, i)
			}
		}
	}
	// The question is echoed as asked, in its case.
	m := exchange(t, "udp", addr, query("LVS.vrid.dsas.", dns.TypeTXT))
	if m.Question[0].Name != "LVS.vrid.dsas." {
		t.Errorf("question %s", m.Question[0].Name)
	}
	// A new zone: the prepared answers of the old one are not served.
	src.settings["lvs.vrid"] = "200"
	if _, err := srv.Update(src, 4); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m := exchange(t, "udp", addr, query("lvs.vrid.dsas.", dns.TypeTXT))
		if len(m.Answer) != 1 || JoinTXT(m.Answer[0].(*dns.TXT).Txt) != "200" {
			t.Fatalf("after the new zone: %v", m.Answer)
		}
	}
}

// The fast path's key: which queries it takes, and no allocation for one
// it has prepared.
func TestPlainKey(t *testing.T) {
	w := &worker{key: make([]byte, 0, 300), answers: newAnswerTable()}
	pack := func(m *dns.Msg) []byte { b, _ := m.Pack(); return b }
	plain := pack(query("lvs.vrid.dsas.", dns.TypeTXT))
	for name, c := range map[string]struct {
		b  []byte
		ok bool
	}{
		"plain": {plain, true},
		"edns":  {pack(query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(4096))), true},
		"upper": {pack(query("Lvs.vrid.dsas.", dns.TypeTXT)), false},
		"chaos": {pack(func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}()), false},
		"response":   {pack(func() *dns.Msg { m := query("a.dsas.", dns.TypeA); m.Response = true; return m }()), false},
		"notify":     {pack(func() *dns.Msg { m := query("a.dsas.", dns.TypeSOA); m.Opcode = dns.OpcodeNotify; return m }()), false},
		"short":      {plain[:15], false},
		"trailing":   {append(append([]byte(nil), plain...), 0), false},
		"edns ver 1": {pack(func() *dns.Msg { m := query("a.dsas.", dns.TypeA, withEDNS(1232)); m.IsEdns0().SetVersion(1); return m }()), false},
	} {
		if _, ok := w.plainKey(c.b, false, DefaultMaxUDP); ok != c.ok {
			t.Errorf("%s: plain %v, want %v", name, ok, c.ok)
		}
	}
	k1, _ := w.plainKey(plain, false, DefaultMaxUDP)
	k1 = append([]byte(nil), k1...)
	if k2, _ := w.plainKey(plain, true, DefaultMaxUDP); bytes.Equal(k1, k2) {
		t.Error("RA is not in the key")
	}
	w.answers.put(k1, plain, 0, false, false)
	if n := testing.AllocsPerRun(100, func() {
		k, _ := w.plainKey(plain, false, DefaultMaxUDP)
		if _, _, ok := w.answers.get(k); !ok {
			t.Fatal("not found")
		}
	}); n != 0 {
		t.Errorf("%v allocations a query", n)
	}
}
