package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"

	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
)

// fleetCDB writes the data.cdb of 10,000 hosts with five settings each.
func fleetCDB(b *testing.B) string {
	b.Helper()
	var recs []tinydns.Record
	add := func(s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			b.Fatal(err)
		}
		rec, _ := tinydns.FromRR(rr)
		recs = append(recs, rec)
	}
	add("dsas. 60 IN SOA ns.dsas. hostmaster.dsas. 1 3600 600 604800 60")
	add(`lvs.vrid.dsas. 60 IN TXT "100"`)
	for i := range 10000 {
		for k := range 5 {
			add(fmt.Sprintf(`k%d.h%05d._host.dsas. 60 IN TXT "value-%d-%d"`, k, i, i, k))
		}
	}
	var buf bytes.Buffer
	if err := tinydns.WriteCDB(&buf, recs); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "data.cdb")
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

// BenchmarkGetCommand is `zonecfg get` in process: open the data.cdb,
// find the zone, look the key up for the host, then globally.
func BenchmarkGetCommand(b *testing.B) {
	path := fleetCDB(b)
	env := fakeEnv{}
	for b.Loop() {
		if err := run([]string{"--cdb", path, "--host", "h05000", "get", "lvs.vrid"}, io.Discard, env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup is one key lookup in an open data.cdb.
func BenchmarkLookup(b *testing.B) {
	r, err := cdb.Open(fleetCDB(b))
	if err != nil {
		b.Fatal(err)
	}
	src := cdbSource{r, "data.cdb"}
	i := 0
	for b.Loop() {
		rrs, err := src.Lookup(fmt.Sprintf("k%d.h%05d._host.dsas.", i%5, i%10000), dns.TypeTXT)
		if err != nil || len(rrs) != 1 {
			b.Fatal(rrs, err)
		}
		i++
	}
}
