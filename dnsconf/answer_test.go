package dnsconf

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// query builds a request; opts edit it.
func query(name string, qtype uint16, opts ...func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 4711
	for _, o := range opts {
		o(m)
	}
	return m
}

// withAnswer puts an answer record in a query (a malformed one).
func withAnswer(t testing.TB) func(*dns.Msg) {
	return func(m *dns.Msg) { m.Answer = []dns.RR{mustRR(t, "lvs.vrid.dsas. 60 IN TXT \"1\"")} }
}

func withEDNS(size uint16) func(*dns.Msg) { return func(m *dns.Msg) { m.SetEdns0(size, false) } }

// render shows a reply as zone-file text, one line per record, after a
// trip over the wire (pack, unpack).
func render(t *testing.T, m *dns.Msg) string {
	t.Helper()
	if m == nil {
		return "no reply"
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	var out strings.Builder
	rcode := dns.RcodeToString[m.Rcode]
	if m.Rcode == dns.RcodeBadVers {
		rcode = "BADVERS" // miekg/dns names 16 after TSIG's BADSIG
	}
	fmt.Fprintf(&out, "%s id=%d", rcode, m.Id)
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}} {
		if f.on {
			out.WriteString(" " + f.name)
		}
	}
	for _, q := range m.Question {
		fmt.Fprintf(&out, "\nQ %s %s %s", q.Name, dns.ClassToString[q.Qclass], dns.TypeToString[q.Qtype])
	}
	for _, s := range []struct {
		tag string
		rrs []dns.RR
	}{{"AN", m.Answer}, {"NS", m.Ns}, {"AR", m.Extra}} {
		for _, rr := range s.rrs {
			fmt.Fprintf(&out, "\n%s %s", s.tag, line(rr))
		}
	}
	return out.String()
}

func line(rr dns.RR) string {
	if o, ok := rr.(*dns.OPT); ok {
		return fmt.Sprintf("OPT version=%d udp=%d do=%t", o.Version(), o.UDPSize(), o.Do())
	}
	return strings.ReplaceAll(rr.String(), "\t", " ")
}

const (
	soa    = "dsas. 60 IN SOA ns.dsas. hostmaster.dsas. 7 3600 600 604800 60"
	revSOA = "0.0.10.in-addr.arpa. 60 IN SOA ns.dsas. hostmaster.dsas. 7 3600 600 604800 60"
)

func TestAnswer(t *testing.T) {
	z := testZone(t)
	big := `"` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 235) + `"`
	tests := []struct {
		name   string
		req    *dns.Msg
		maxUDP int
		want   string
	}{
		{"global setting", query("lvs.vrid.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ lvs.vrid.dsas. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\""},
		{"case-insensitive, question echoed as asked", query("LVS.Vrid.DSAS.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ LVS.Vrid.DSAS. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\""},
		{"empty value is one empty string", query("empty.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ empty.dsas. IN TXT\nAN empty.dsas. 60 IN TXT \"\""},
		{"quotes and backslashes", query("quote.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ quote.dsas. IN TXT\nAN quote.dsas. 60 IN TXT \"say \\\"hi\\\" \\\\o/\""},
		{"profile setting overridden by the system", query("rack.web001._host.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ rack.web001._host.dsas. IN TXT\nAN rack.web001._host.dsas. 60 IN TXT \"r1\""},
		{"profile setting", query("role.web001._host.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ role.web001._host.dsas. IN TXT\nAN role.web001._host.dsas. 60 IN TXT \"frontend\""},
		{"profile name", query("profile.db001._host.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ profile.db001._host.dsas. IN TXT\nAN profile.db001._host.dsas. 60 IN TXT \"db\""},
		{"system name", query("web001.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ web001.dsas. IN A\nAN web001.dsas. 60 IN A 10.0.0.11"},
		{"hostname in the zone", query("db.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ db.dsas. IN A\nAN db.dsas. 60 IN A 10.0.0.21"},
		{"name of a system with another hostname", query("db001.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ db001.dsas. IN A\nAN db001.dsas. 60 IN A 10.0.0.21"},
		{"PTR to the hostname", query("21.0.0.10.in-addr.arpa.", dns.TypePTR), 1232,
			"NOERROR id=4711 aa rd\nQ 21.0.0.10.in-addr.arpa. IN PTR\nAN 21.0.0.10.in-addr.arpa. 60 IN PTR db.dsas."},
		{"NXDOMAIN", query("nosuch.dsas.", dns.TypeA), 1232,
			"NXDOMAIN id=4711 aa rd\nQ nosuch.dsas. IN A\nNS " + soa},
		{"NXDOMAIN below a setting", query("x.lvs.vrid.dsas.", dns.TypeTXT), 1232,
			"NXDOMAIN id=4711 aa rd\nQ x.lvs.vrid.dsas. IN TXT\nNS " + soa},
		{"NXDOMAIN in a reverse zone", query("99.0.0.10.in-addr.arpa.", dns.TypePTR), 1232,
			"NXDOMAIN id=4711 aa rd\nQ 99.0.0.10.in-addr.arpa. IN PTR\nNS " + revSOA},
		{"NODATA", query("web001.dsas.", dns.TypeAAAA), 1232,
			"NOERROR id=4711 aa rd\nQ web001.dsas. IN AAAA\nNS " + soa},
		{"NODATA at an empty non-terminal", query("vrid.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ vrid.dsas. IN TXT\nNS " + soa},
		{"NODATA at _host", query("web001._host.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa rd\nQ web001._host.dsas. IN TXT\nNS " + soa},
		{"SOA", query("dsas.", dns.TypeSOA), 1232,
			"NOERROR id=4711 aa rd\nQ dsas. IN SOA\nAN " + soa},
		{"NS with the server's address", query("dsas.", dns.TypeNS), 1232,
			"NOERROR id=4711 aa rd\nQ dsas. IN NS\nAN dsas. 60 IN NS ns.dsas.\nAR ns.dsas. 60 IN A 10.0.0.2"},
		{"reverse zone NS", query("0.0.10.in-addr.arpa.", dns.TypeNS), 1232,
			"NOERROR id=4711 aa rd\nQ 0.0.10.in-addr.arpa. IN NS\nAN 0.0.10.in-addr.arpa. 60 IN NS ns.dsas.\nAR ns.dsas. 60 IN A 10.0.0.2"},
		{"ANY gets every record at the name", query("ns.dsas.", dns.TypeANY), 1232,
			"NOERROR id=4711 aa rd\nQ ns.dsas. IN ANY\nAN ns.dsas. 60 IN A 10.0.0.2"},
		{"ANY at an empty non-terminal", query("_host.dsas.", dns.TypeANY), 1232,
			"NOERROR id=4711 aa rd\nQ _host.dsas. IN ANY\nNS " + soa},
		{"static record", query("mail.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ mail.dsas. IN A\nAN mail.dsas. 300 IN A 10.0.0.50"},
		{"static CNAME followed", query("alias.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ alias.dsas. IN A\nAN alias.dsas. 300 IN CNAME web001.dsas.\nAN web001.dsas. 60 IN A 10.0.0.11"},
		{"static CNAME asked for", query("alias.dsas.", dns.TypeCNAME), 1232,
			"NOERROR id=4711 aa rd\nQ alias.dsas. IN CNAME\nAN alias.dsas. 300 IN CNAME web001.dsas."},
		{"CNAME to a missing name", query("gone.dsas.", dns.TypeA), 1232,
			"NXDOMAIN id=4711 aa rd\nQ gone.dsas. IN A\nAN gone.dsas. 300 IN CNAME nothing.dsas.\nNS " + soa},
		{"CNAME out of the zone", query("ext.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ ext.dsas. IN A\nAN ext.dsas. 300 IN CNAME www.example.com."},
		{"CNAME loop stops after 8", query("loop1.dsas.", dns.TypeA), 1232,
			"NOERROR id=4711 aa rd\nQ loop1.dsas. IN A" + strings.Repeat("\nAN loop1.dsas. 300 IN CNAME loop2.dsas.\nAN loop2.dsas. 300 IN CNAME loop1.dsas.", 4)},
		{"outside the zone", query("www.example.com.", dns.TypeA), 1232,
			"REFUSED id=4711 rd\nQ www.example.com. IN A"},
		{"root", query(".", dns.TypeNS), 1232,
			"REFUSED id=4711 rd\nQ . IN NS"},
		{"reverse name of another subnet", query("1.1.168.192.in-addr.arpa.", dns.TypePTR), 1232,
			"REFUSED id=4711 rd\nQ 1.1.168.192.in-addr.arpa. IN PTR"},
		{"parent of a reverse zone", query("0.10.in-addr.arpa.", dns.TypeNS), 1232,
			"REFUSED id=4711 rd\nQ 0.10.in-addr.arpa. IN NS"},
		{"zone transfer", query("dsas.", dns.TypeAXFR), 0,
			"REFUSED id=4711 rd\nQ dsas. IN AXFR"},
		{"class CHAOS", query("version.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), 1232,
			"REFUSED id=4711 rd\nQ version.bind. CH TXT"},
		{"opcode UPDATE", query("dsas.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }), 1232,
			"NOTIMP id=4711 rd\nQ dsas. IN SOA"},
		{"no question", query("dsas.", dns.TypeSOA, func(m *dns.Msg) { m.Question = nil }), 1232,
			"FORMERR id=4711 rd"},
		{"two questions", query("dsas.", dns.TypeSOA, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), 1232,
			"FORMERR id=4711 rd"},
		{"a response is not answered", query("dsas.", dns.TypeSOA, func(m *dns.Msg) { m.Response = true }), 1232,
			"no reply"},
		{"no RD copied", query("lvs.vrid.dsas.", dns.TypeTXT, func(m *dns.Msg) { m.RecursionDesired = false }), 1232,
			"NOERROR id=4711 aa\nQ lvs.vrid.dsas. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\""},
		{"EDNS0 echoed with our size", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(4096)), 1232,
			"NOERROR id=4711 aa rd\nQ lvs.vrid.dsas. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\"\nAR OPT version=0 udp=1232 do=false"},
		{"EDNS0 DO bit copied", query("nosuch.dsas.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, true) }), 1232,
			"NXDOMAIN id=4711 aa rd\nQ nosuch.dsas. IN A\nNS " + soa + "\nAR OPT version=0 udp=1232 do=true"},
		{"EDNS version 1", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232), func(m *dns.Msg) { m.IsEdns0().SetVersion(1) }), 1232,
			"BADVERS id=4711 rd\nQ lvs.vrid.dsas. IN TXT\nAR OPT version=0 udp=1232 do=false"},
		{"two OPT records", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232), withEDNS(1232)), 1232,
			"FORMERR id=4711 rd"},
		// Malformed queries get FORMERR, as from NSD; with our OPT when the
		// query has one valid OPT record (RFC 6891 7).
		{"no question, EDNS0", query("dsas.", dns.TypeSOA, withEDNS(1232), func(m *dns.Msg) { m.Question = nil }), 1232,
			"FORMERR id=4711 rd\nAR OPT version=0 udp=1232 do=false"},
		{"two questions, EDNS0", query("dsas.", dns.TypeSOA, withEDNS(1232), func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), 1232,
			"FORMERR id=4711 rd\nAR OPT version=0 udp=1232 do=false"},
		{"an answer record", query("lvs.vrid.dsas.", dns.TypeTXT, withAnswer(t)), 1232,
			"FORMERR id=4711 rd"},
		{"an answer record, EDNS0 with DO", query("lvs.vrid.dsas.", dns.TypeTXT, withAnswer(t), func(m *dns.Msg) { m.SetEdns0(4096, true) }), 1232,
			"FORMERR id=4711 rd\nAR OPT version=0 udp=1232 do=true"},
		{"an authority record, EDNS0", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232), func(m *dns.Msg) { m.Ns = []dns.RR{mustRR(t, soa)} }), 1232,
			"FORMERR id=4711 rd\nAR OPT version=0 udp=1232 do=false"},
		{"rcode NXDOMAIN in a query", query("lvs.vrid.dsas.", dns.TypeTXT, func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }), 1232,
			"FORMERR id=4711 rd"},
		{"rcode REFUSED in a query, EDNS0", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232), func(m *dns.Msg) { m.Rcode = dns.RcodeRefused }), 1232,
			"FORMERR id=4711 rd\nAR OPT version=0 udp=1232 do=false"},
		{"OPT not at the root", query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232), func(m *dns.Msg) { m.Extra[0].Header().Name = "dsas." }), 1232,
			"FORMERR id=4711 rd"},
		{"1000 bytes over UDP without EDNS0: truncated", query("big.dsas.", dns.TypeTXT), 1232,
			"NOERROR id=4711 aa tc rd\nQ big.dsas. IN TXT"},
		{"1000 bytes over UDP with EDNS0 1232: fits", query("big.dsas.", dns.TypeTXT, withEDNS(1232)), 1232,
			"NOERROR id=4711 aa rd\nQ big.dsas. IN TXT\nAN big.dsas. 60 IN TXT " + big + "\nAR OPT version=0 udp=1232 do=false"},
		{"EDNS0 size below 512 counts as 512", query("big.dsas.", dns.TypeTXT, withEDNS(100)), 1232,
			"NOERROR id=4711 aa tc rd\nQ big.dsas. IN TXT\nAR OPT version=0 udp=1232 do=false"},
		{"3000 bytes with EDNS0 4096: capped at 1232, truncated", query("huge.dsas.", dns.TypeTXT, withEDNS(4096)), 1232,
			"NOERROR id=4711 aa tc rd\nQ huge.dsas. IN TXT\nAR OPT version=0 udp=1232 do=false"},
		{"1000 bytes over TCP", query("big.dsas.", dns.TypeTXT), 0,
			"NOERROR id=4711 aa rd\nQ big.dsas. IN TXT\nAN big.dsas. 60 IN TXT " + big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, Answer(z, tt.req, tt.maxUDP))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnswerWithoutZone(t *testing.T) {
	got := render(t, Answer(nil, query("lvs.vrid.dsas.", dns.TypeTXT), 1232))
	if diff := cmp.Diff("SERVFAIL id=4711 rd\nQ lvs.vrid.dsas. IN TXT", got); diff != "" {
		t.Errorf("Answer (-want +got):\n%s", diff)
	}
}

func TestAnswerNilRequest(t *testing.T) {
	if m := Answer(testZone(t), nil, 512); m != nil {
		t.Errorf("Answer(nil) = %v, want nil", m)
	}
}

// TestAnswerHugeOverTCP: a value that fits no UDP buffer comes whole over
// TCP, split in character-strings that join back to the value.
func TestAnswerHugeOverTCP(t *testing.T) {
	m := Answer(testZone(t), query("huge.dsas.", dns.TypeTXT), 0)
	if m.Truncated || len(m.Answer) != 1 {
		t.Fatalf("reply: %v", m)
	}
	txt := m.Answer[0].(*dns.TXT).Txt
	if got, want := JoinTXT(txt), strings.Repeat("y", 3000); got != want {
		t.Errorf("joined value: %d bytes, want %d", len(got), len(want))
	}
	if len(txt) != 12 {
		t.Errorf("%d strings, want 12 (3000 bytes / 255)", len(txt))
	}
}

// TestAnswerConcurrent: replies share the zone's records; packing them
// from many goroutines at once must not write to them (run with -race).
func TestAnswerConcurrent(t *testing.T) {
	z := testZone(t)
	names := []string{"lvs.vrid.dsas.", "big.dsas.", "alias.dsas.", "dsas.", "11.0.0.10.in-addr.arpa.", "nosuch.dsas."}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				req := query(names[(g+i)%len(names)], dns.TypeANY, withEDNS(4096))
				if m, b := answer(z, req, DefaultMaxUDP*(i%2)); m == nil || b == nil {
					t.Errorf("no reply to %s", req.Question[0].Name)
					return
				}
			}
		})
	}
	wg.Wait()
}
