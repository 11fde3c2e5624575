package dnsconf

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

func TestReverseZones(t *testing.T) {
	tests := []struct {
		cidr string
		want []string
	}{
		{"10.0.0.0/24", []string{"0.0.10.in-addr.arpa."}},
		{"172.16.0.0/16", []string{"16.172.in-addr.arpa."}},
		{"10.0.4.0/22", []string{"4.0.10.in-addr.arpa.", "5.0.10.in-addr.arpa.", "6.0.10.in-addr.arpa.", "7.0.10.in-addr.arpa."}},
		{"192.168.1.64/26", []string{"1.168.192.in-addr.arpa."}},
		{"10.0.0.0/8", []string{"10.in-addr.arpa."}},
		{"10.128.0.0/15", []string{"128.10.in-addr.arpa.", "129.10.in-addr.arpa."}},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, reverseZones(netip.MustParsePrefix(tt.cidr))); diff != "" {
				t.Errorf("reverseZones (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(reverseZones(netip.MustParsePrefix("0.0.0.0/0"))); n != 256 {
		t.Errorf("/0: %d zones, want 256 /8 zones", n)
	}
}

func TestBuildZoneOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no origin", Options{NS: applianceIP}},
		{"root origin", Options{Origin: ".", NS: applianceIP}},
		{"bad origin", Options{Origin: "a..b", NS: applianceIP}},
		{"no NS address", Options{Origin: "dsas"}},
		{"unspecified NS address", Options{Origin: "dsas", NS: netip.IPv4Unspecified()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := BuildZone(testSource(), tt.opts); !errors.Is(err, ErrOptions) {
				t.Errorf("BuildZone error = %v, want ErrOptions", err)
			}
		})
	}
}

// TestBuildZoneProblems: what the registry should never hold but a Source
// may, and what DNS cannot carry, is left out and reported, never fatal.
func TestBuildZoneProblems(t *testing.T) {
	long := strings.Repeat("k", 63) + "." + strings.Repeat("k", 63) + "." + strings.Repeat("k", 63) + "." + strings.Repeat("k", 50)
	src := &fakeSource{
		subnets: []*registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24"}, {Name: "bad", CIDR: "nonsense"}},
		settings: map[string]string{
			"toolarge": strings.Repeat("z", MaxTXTValue+1),
			"fits":     strings.Repeat("z", MaxTXTValue),
		},
		systems: []*registry.System{
			{Name: "a", Hostname: "b.dsas", IP: "10.0.0.10", Profile: "p"},        // takes b's name: refused
			{Name: "b", Hostname: "b.example.com", IP: "10.0.0.11", Profile: "p"}, // hostname outside: PTR only
			{Name: "c", Hostname: "c.dsas", IP: "10.0.0.11", Profile: "p"},        // same IP as b: no PTR
			{Name: "d", Hostname: "d.dsas", IP: "192.168.0.1", Profile: "p"},      // no subnet: no PTR
			{Name: "e", Hostname: "e.dsas", IP: "not-an-ip", Profile: "p"},        // no A, no PTR
			{Name: "ns", Hostname: "ns.dsas", IP: "10.0.0.12", Profile: "p"},      // the name server's name
			{Name: "f", Hostname: "f.dsas", IP: "10.0.0.13", Profile: "p", Settings: map[string]string{"profile": "x", long: "v"}},
		},
	}
	z, err := BuildZone(src, Options{Origin: "dsas", NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range z.Problems() {
		got = append(got, p.Error())
	}
	want := []string{
		// The subnets', then each system's by name, then the settings'.
		`dnsconf: subnet bad: cidr "nonsense" is not an IPv4 prefix: no reverse zone`,
		`dnsconf: system a: b.dsas. already belongs to system b: no A record`,
		`dnsconf: system c: ip 10.0.0.11 already belongs to system b: no PTR record`,
		`dnsconf: system d: ip 192.168.0.1 is in no subnet: no PTR record`,
		`dnsconf: system e: ip "not-an-ip" is not an IPv4 address: no A or PTR record`,
		`dnsconf: system f: setting ` + long + `: ` + long + `.f._host.dsas. is not a valid DNS name (too long?)`,
		`dnsconf: system f: setting profile: the name is taken by the profile record`,
		`dnsconf: system ns: ns.dsas. already belongs to the appliance's name server: no A record`,
		`dnsconf: setting toolarge: value of 64001 bytes does not fit in a DNS message (limit 64000)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	checks := []struct {
		name  string
		qtype uint16
		want  []string
	}{
		{"a.dsas.", dns.TypeA, []string{"a.dsas.\t60\tIN\tA\t10.0.0.10"}},
		{"b.dsas.", dns.TypeA, []string{"b.dsas.\t60\tIN\tA\t10.0.0.11"}},
		{"B.Example.Com", dns.TypeA, nil},
		{"11.0.0.10.in-addr.arpa.", dns.TypePTR, []string{"11.0.0.10.in-addr.arpa.\t60\tIN\tPTR\tb.example.com."}},
		{"ns.dsas.", dns.TypeA, []string{"ns.dsas.\t60\tIN\tA\t10.0.0.2"}},
		{"profile.f._host.dsas.", dns.TypeTXT, []string{"profile.f._host.dsas.\t60\tIN\tTXT\t\"p\""}},
	}
	for _, c := range checks {
		var got []string
		for _, rr := range z.Lookup(c.name, c.qtype) {
			got = append(got, rr.String())
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Lookup(%s, %s) (-want +got):\n%s", c.name, dns.TypeToString[c.qtype], diff)
		}
	}
	if rrs := z.Lookup("fits.dsas.", dns.TypeTXT); len(rrs) != 1 {
		t.Errorf("a value of MaxTXTValue bytes is not served")
	} else if m := Answer(z, query("fits.dsas.", dns.TypeTXT, withEDNS(4096)), 0); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("a value of MaxTXTValue bytes does not fit over TCP: %s", dns.RcodeToString[m.Rcode])
	}
}

func TestStaticRecords(t *testing.T) {
	base, err := BuildZone(testSource(), Options{Origin: "dsas", NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	static := []dns.RR{
		mustRR(t, "WWW.dsas. 300 IN A 10.0.0.80"),                  // ok, stored lowercase
		mustRR(t, "www.dsas. 300 IN A 10.0.0.80"),                  // duplicate: dropped quietly
		mustRR(t, "www.dsas. 300 IN TXT \"web\""),                  // ok
		mustRR(t, "Web001.dsas. 300 IN TXT \"x\""),                 // clash: a system
		mustRR(t, "lvs.vrid.dsas. 300 IN A 10.0.0.1"),              // clash: a setting
		mustRR(t, "new.web001._host.dsas. 300 IN TXT \"x\""),       // clash: under _host
		mustRR(t, "dsas. 300 IN MX 10 mail.dsas."),                 // ok: at the apex only SOA and NS are the registry's
		mustRR(t, "ns.dsas. 300 IN AAAA ::1"),                      // clash: the name server
		mustRR(t, "11.0.0.10.in-addr.arpa. 300 IN PTR x.dsas."),    // clash: a system's PTR
		mustRR(t, "50.0.0.10.in-addr.arpa. 300 IN PTR mail.dsas."), // ok: reverse zone
		mustRR(t, "sub.dsas. 300 IN NS ns.example.com."),           // no delegations
		mustRR(t, "example.com. 300 IN A 10.0.0.1"),                // outside
		mustRR(t, "*.dsas. 300 IN A 10.0.0.1"),                     // wildcard
		mustRR(t, "www.dsas. 300 IN CNAME web001.dsas."),           // CNAME beside data
		mustRR(t, "cn.dsas. 300 IN CNAME web001.dsas."),            // ok
		mustRR(t, "cn.dsas. 300 IN TXT \"x\""),                     // data beside a CNAME
		mustRR(t, "cn.dsas. 300 IN CNAME db001.dsas."),             // a second CNAME
	}
	wantClashes := []string{"11.0.0.10.in-addr.arpa.", "lvs.vrid.dsas.", "new.web001._host.dsas.", "ns.dsas.", "web001.dsas."}
	if diff := cmp.Diff(wantClashes, base.Clashes(static)); diff != "" {
		t.Errorf("Clashes (-want +got):\n%s", diff)
	}
	z, err := BuildZone(testSource(), Options{Origin: "dsas", NS: applianceIP, Static: static})
	if err != nil {
		t.Fatal(err)
	}
	var clashes, refused int
	for _, p := range z.Problems() {
		if errors.Is(p, ErrClash) {
			clashes++
		} else {
			refused++
		}
	}
	if clashes != 5 || refused != 6 {
		t.Errorf("problems: %d clashes, %d other, want 5 and 6: %v", clashes, refused, z.Problems())
	}
	if got := z.Len() - base.Len(); got != 5 {
		t.Errorf("%d static records added, want 5", got)
	}
	if got := Answer(z, query("Www.Dsas.", dns.TypeA), 512); len(got.Answer) != 1 || got.Answer[0].Header().Name != "www.dsas." {
		t.Errorf("static www.dsas. A: %v", got)
	}
	if got := Answer(z, query("web001.dsas.", dns.TypeTXT), 512); len(got.Answer) != 0 {
		t.Errorf("a clashing static record is served: %v", got.Answer)
	}
}

// TestRecordsOrder: SOA, NS, then names in canonical order, per apex.
func TestRecordsOrder(t *testing.T) {
	z := testZone(t)
	rrs := z.Records()
	if len(rrs) != z.Len() {
		t.Fatalf("Records: %d records, Len %d", len(rrs), z.Len())
	}
	if rrs[0].Header().Rrtype != dns.TypeSOA || rrs[1].Header().Rrtype != dns.TypeNS {
		t.Errorf("Records starts with %s, %s; want SOA, NS", rrs[0], rrs[1])
	}
	again := testZone(t).Records()
	for i := range rrs {
		if rrs[i].String() != again[i].String() {
			t.Fatalf("two builds differ at %d: %s vs %s", i, rrs[i], again[i])
		}
	}
	if diff := cmp.Diff([]string{"dsas.", "0.0.10.in-addr.arpa."}, z.Apexes()); diff != "" {
		t.Errorf("Apexes (-want +got):\n%s", diff)
	}
}

func TestBuildZoneNilSource(t *testing.T) {
	if _, err := BuildZone(nil, Options{Origin: "dsas", NS: applianceIP}); err == nil {
		t.Error("BuildZone(nil) did not fail")
	}
}
