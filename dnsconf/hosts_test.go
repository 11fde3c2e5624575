package dnsconf

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// TestHostView: the _host subtree is made from the Snapshot when asked,
// not stored: names of several labels, the empty non-terminals between
// them and NAME._host, names that are not there (NXDOMAIN, under a
// system and under no system), and a change seen only in the version
// that holds it.
func TestHostView(t *testing.T) {
	src := &fakeSource{
		subnets:  []*registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24"}},
		profiles: map[string]map[string]string{"db": {"mysql.port": "3306"}},
		systems: []*registry.System{
			{Name: "db001", Hostname: "db001.dsas", IP: "10.0.0.21", Profile: "db", Settings: map[string]string{"mysql.server_id": "7", "a.b.c": "deep"}},
		},
	}
	z, err := BuildZone(src, Options{Origin: "dsas", Serial: 7, NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"mysql.server_id.db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ mysql.server_id.db001._host.dsas. IN TXT\nAN mysql.server_id.db001._host.dsas. 60 IN TXT \"7\""},
		{"mysql.port.db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ mysql.port.db001._host.dsas. IN TXT\nAN mysql.port.db001._host.dsas. 60 IN TXT \"3306\""},
		{"MYSQL.Port.DB001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ MYSQL.Port.DB001._host.dsas. IN TXT\nAN mysql.port.db001._host.dsas. 60 IN TXT \"3306\""},
		{"a.b.c.db001._host.dsas.", dns.TypeANY, "NOERROR id=4711 aa rd\nQ a.b.c.db001._host.dsas. IN ANY\nAN a.b.c.db001._host.dsas. 60 IN TXT \"deep\""},
		{"mysql.server_id.db001._host.dsas.", dns.TypeA, "NOERROR id=4711 aa rd\nQ mysql.server_id.db001._host.dsas. IN A\nNS " + soa},
		// empty non-terminals: NODATA (RFC 8020)
		{"server_id.db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ server_id.db001._host.dsas. IN TXT\nNS " + soa},
		{"b.c.db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ b.c.db001._host.dsas. IN TXT\nNS " + soa},
		{"c.db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ c.db001._host.dsas. IN TXT\nNS " + soa},
		{"db001._host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ db001._host.dsas. IN TXT\nNS " + soa},
		{"_host.dsas.", dns.TypeTXT, "NOERROR id=4711 aa rd\nQ _host.dsas. IN TXT\nNS " + soa},
		// names that are not there
		{"id.db001._host.dsas.", dns.TypeTXT, "NXDOMAIN id=4711 aa rd\nQ id.db001._host.dsas. IN TXT\nNS " + soa},
		{"x.a.b.c.db001._host.dsas.", dns.TypeTXT, "NXDOMAIN id=4711 aa rd\nQ x.a.b.c.db001._host.dsas. IN TXT\nNS " + soa},
		{"profile.web001._host.dsas.", dns.TypeTXT, "NXDOMAIN id=4711 aa rd\nQ profile.web001._host.dsas. IN TXT\nNS " + soa},
		{"web001._host.dsas.", dns.TypeTXT, "NXDOMAIN id=4711 aa rd\nQ web001._host.dsas. IN TXT\nNS " + soa},
		{"x_host.dsas.", dns.TypeTXT, "NXDOMAIN id=4711 aa rd\nQ x_host.dsas. IN TXT\nNS " + soa},
	}
	for _, tt := range tests {
		if got := render(t, Answer(z, query(tt.name, tt.qtype), 1232)); got != tt.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tt.name, dns.TypeToString[tt.qtype], got, tt.want)
		}
	}

	// An empty registry has no _host.ORIGIN.
	empty, err := BuildZone(&fakeSource{}, Options{Origin: "dsas", Serial: 7, NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	want := "NXDOMAIN id=4711 aa rd\nQ _host.dsas. IN TXT\nNS " + soa
	if got := render(t, Answer(empty, query("_host.dsas.", dns.TypeTXT), 1232)); got != want {
		t.Errorf("empty zone, _host.dsas.:\n got %s\nwant %s", got, want)
	}
}

// TestHostRecordsEncoded: the host records data.cdb gets without a
// dns.RR (appendHostRecord) are the bytes tinydns.FromRR makes of the
// TXT records the zone answers with: quotes, backslashes, bytes outside
// ASCII, an empty value, values of several character-strings.
func TestHostRecordsEncoded(t *testing.T) {
	values := map[string]string{"quote": `say "hi" \o/`, "bytes": "\x00\x01\xfe\xff", "empty": "", "long": strings.Repeat("x", 600),
		"edge": strings.Repeat("y", 255), "edge2": strings.Repeat("z", 510)}
	src := &fakeSource{
		subnets: []*registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24"}},
		systems: []*registry.System{{Name: "db001", Hostname: "db001.dsas", IP: "10.0.0.21", Profile: "db", Settings: values}},
	}
	z, err := BuildZone(src, Options{Origin: "dsas", Serial: 7, NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	got := cdbRecords(t, mustCDB(t, z))
	if want := cdbRecords(t, referenceCDB(t, z)); !slices.Equal(got, want) {
		t.Fatalf("data.cdb holds %d records, tinydns.WriteCDB of the zone's %d, or others", len(got), len(want))
	}
	for k, v := range values {
		rrs := z.Lookup(k+".db001._host.dsas.", dns.TypeTXT)
		if len(rrs) != 1 || JoinTXT(rrs[0].(*dns.TXT).Txt) != v {
			t.Errorf("%s: answered %v, want %q", k, rrs, v)
		}
	}
}
