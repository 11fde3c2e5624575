package tinydns

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/testenv"
)

// zonesData has a forward zone and two reverse zones whose records a
// data.cdb interleaves (= lines make an A and a PTR), a delegation with
// glue, a wildcard, a record under no SOA and a second SOA.
const zonesData = `.dsas:10.0.0.2:a
.0.0.10.in-addr.arpa::a.ns.dsas
.1.0.10.in-addr.arpa::a.ns.dsas
=web01.dsas:10.0.0.11
=web02.dsas:10.0.0.12
=db01.dsas:10.0.1.21
+*.wild.dsas:10.0.0.99
@dsas:10.0.0.25:mail:10
Cwww.dsas:web01.dsas
'spf.dsas:v=spf1 -all
&sub.dsas:10.0.0.53:ns1
+stray.example:192.0.2.1
Zdsas:b.ns.dsas:hostmaster.dsas:7
`

func compiled(t *testing.T, data string) []Record {
	t.Helper()
	var cdb bytes.Buffer
	if err := Compile(strings.NewReader(data), 1, &cdb); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadCDB(cdb.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Each zone starts with its SOA and holds only its own records; what no
// zone can hold is left out.
func TestZones(t *testing.T) {
	zones, left, err := Zones(compiled(t, zonesData))
	if err != nil {
		t.Fatal(err)
	}
	var origins []string
	for _, z := range zones {
		origins = append(origins, z.Origin)
		if z.RRs[0].Header().Rrtype != dns.TypeSOA || z.RRs[0].Header().Name != z.Origin {
			t.Errorf("zone %s starts with %v", z.Origin, z.RRs[0])
		}
		for _, rr := range z.RRs {
			if !dns.IsSubDomain(z.Origin, rr.Header().Name) {
				t.Errorf("zone %s holds %v", z.Origin, rr)
			}
		}
	}
	if got := strings.Join(origins, " "); got != "0.0.10.in-addr.arpa. 1.0.10.in-addr.arpa. dsas." {
		t.Errorf("zones %s", got)
	}
	var lefts []string
	for _, rr := range left {
		lefts = append(lefts, rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype])
	}
	if got := strings.Join(lefts, ", "); got != "stray.example. A, dsas. SOA" {
		t.Errorf("left out: %s", got)
	}
	var buf bytes.Buffer
	if err := zones[1].Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "$ORIGIN 1.0.10.in-addr.arpa.\n" +
		"1.0.10.in-addr.arpa.\t2560\tIN\tSOA\ta.ns.dsas. hostmaster.1.0.10.in-addr.arpa. 1 16384 2048 1048576 2560\n" +
		"1.0.10.in-addr.arpa.\t259200\tIN\tNS\ta.ns.dsas.\n" +
		"21.1.0.10.in-addr.arpa.\t86400\tIN\tPTR\tdb01.dsas.\n"
	if buf.String() != want {
		t.Errorf("zone 1.0.10.in-addr.arpa.:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// NSD and BIND load each zone, on its own, without an error.
func TestZonesLoadInNSDAndBIND(t *testing.T) {
	nsd := testenv.NeedCommand(t, "nsd-checkzone")
	bind := testenv.NeedCommand(t, "named-checkzone")
	zones, _, err := Zones(compiled(t, zonesData))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, z := range zones {
		var buf bytes.Buffer
		z.Write(&buf)
		path := filepath.Join(dir, z.Origin+"zone")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		testenv.CheckZoneFile(t, nsd, bind, z.Origin, path)
	}
}
