package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
	"github.com/provision/provision/internal/testenv"
)

// fleetYAML is a registry of n systems with five settings each.
func fleetYAML(n int) []byte {
	var b strings.Builder
	b.WriteString("settings: {lvs.vrid: \"100\", net.private: 192.168.0.0/20}\n")
	b.WriteString("subnets: [{name: big, cidr: 172.16.0.0/16, gateway: 172.16.0.1}]\n")
	b.WriteString("images: [{name: img, kind: install, files: {kernel: {sha256: " + strings.Repeat("a", 64) + ", size: 1}, initrd: {sha256: " + strings.Repeat("b", 64) + ", size: 1}}}]\n")
	b.WriteString("profiles: [{name: web, image: img, settings: {role: web}}]\nsystems:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: h%05d, macs: [\"02:00:00:%02x:%02x:%02x\"], ip: 172.16.%d.%d, profile: web, netboot: true, "+
			"settings: {mysql.server_id: \"%d\", k1: v1, k2: v2, k3: v3, k4: v4}}\n", i, i>>16&0xff, i>>8&0xff, i&0xff, 1+i/250, 2+i%250, i)
	}
	return []byte(b.String())
}

// startFleet starts a server holding 10,000 systems.
func startFleet(b *testing.B) *server {
	s := startServerBinary(b, cli, b.TempDir(), "--zone", "dsas") // built without -race
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, fleetYAML(10000), 0o644)
	s.ok("import", file)
	for !cdbHas(b, s.URL, "mysql.server_id.h09999._host.dsas", "9999") {
		time.Sleep(50 * time.Millisecond) // the zone is rebuilt in the background
	}
	return s
}

// BenchmarkSettingVisibility: time from `setting set` (as the API
// acknowledges it) until dig sees the value and until the served
// data.cdb holds it, with 10,000 systems registered.
func BenchmarkSettingVisibility(b *testing.B) {
	testenv.NeedCommand(b, "dig")
	s := startFleet(b)
	var dnsTotal, cdbTotal time.Duration
	for i := 0; b.Loop(); i++ {
		want := fmt.Sprint(1000 + i)
		s.ok("setting", "set", "bench.value", want)
		set := time.Now()
		for s.dig("TXT", "bench.value.dsas") != `"`+want+`"` {
			time.Sleep(2 * time.Millisecond)
		}
		dnsTotal += time.Since(set)
		for !cdbHas(b, s.URL, "bench.value.dsas", want) {
			time.Sleep(2 * time.Millisecond)
		}
		cdbTotal += time.Since(set)
	}
	b.ReportMetric(float64(dnsTotal.Milliseconds())/float64(b.N), "ms-to-dns")
	b.ReportMetric(float64(cdbTotal.Milliseconds())/float64(b.N), "ms-to-cdb")
}

func cdbHas(b *testing.B, url, name, want string) bool {
	resp, err := http.Get(url + "/zone/data.cdb")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	r, err := cdb.New(buf.Bytes())
	if err != nil {
		return false
	}
	recs, err := tinydns.Lookup(r, name, tinydns.TypeTXT)
	if err != nil || len(recs) == 0 {
		return false
	}
	strs, _ := tinydns.TXTStrings(recs[0].RData)
	return len(strs) == 1 && string(strs[0]) == want
}

// BenchmarkZonecfgProcess: `zonecfg get` as a boot script runs it, from
// process start to exit, against the data.cdb of 10,000 systems.
func BenchmarkZonecfgProcess(b *testing.B) {
	s := startFleet(b)
	path := s.fetchCDB()
	st, _ := os.Stat(path)
	defer b.ReportMetric(float64(st.Size())/(1<<20), "MiB-cdb")
	for b.Loop() {
		out, err := exec.CommandContext(context.Background(), zonecfg, "--cdb", path, "--host", "h05000", "get", "mysql.server_id").Output()
		if err != nil || string(out) != "5000\n" {
			b.Fatalf("%q %v", out, err)
		}
	}
}
