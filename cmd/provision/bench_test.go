package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
	"github.com/provision/provision/internal/testenv"
)

// fleetYAML is a registry of n systems with five settings each, 250 to
// a /24 of 172.16.0.0/12.
func fleetYAML(n int) []byte {
	var b strings.Builder
	b.WriteString("settings: {lvs.vrid: \"100\", net.private: 192.168.0.0/20}\n")
	b.WriteString("subnets: [{name: big, cidr: 172.16.0.0/12, gateway: 172.16.0.1}]\n")
	b.WriteString("images: [{name: img, kind: install, files: {kernel: {sha256: " + strings.Repeat("a", 64) + ", size: 1}, initrd: {sha256: " + strings.Repeat("b", 64) + ", size: 1}}}]\n")
	b.WriteString("profiles: [{name: web, image: img, settings: {role: web}}]\nsystems:\n")
	for i := range n {
		j := 1 + i/250
		fmt.Fprintf(&b, "  - {name: h%05d, macs: [\"02:00:00:%02x:%02x:%02x\"], ip: 172.%d.%d.%d, profile: web, netboot: true, "+
			"settings: {mysql.server_id: \"%d\", k1: v1, k2: v2, k3: v3, k4: v4}}\n", i, i>>16&0xff, i>>8&0xff, i&0xff, 16+j/256, j%256, 2+i%250, i)
	}
	return []byte(b.String())
}

// fleetSize is how many systems the benchmarks register: 10,000 unless
// $BENCH_SYSTEMS says otherwise.
func fleetSize() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_SYSTEMS")); err == nil && v > 0 {
		return v
	}
	return 10000
}

// startFleet starts a server holding n systems (10,000 unless
// $BENCH_SYSTEMS says otherwise).
func startFleet(b *testing.B) *server {
	n := fleetSize()
	s := startServerBinary(b, cli, b.TempDir(), "--zone", "dsas") // built without -race
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, fleetYAML(n), 0o644)
	s.ok("import", file)
	last := fmt.Sprintf("h%05d", n-1)
	for !cdbHas(b, s.URL, "mysql.server_id."+last+"._host.dsas", fmt.Sprint(n-1)) {
		time.Sleep(50 * time.Millisecond) // the zone is rebuilt in the background
	}
	return s
}

// BenchmarkSettingVisibility: time from `setting set` and from `system
// add` (as the API acknowledges them) until dig sees the change and until
// the server serves a data.cdb that holds it (the response to a GET with
// the last ETag in If-None-Match is a 200, not a 304: ms-to-cdb; the body
// downloaded and checked: ms-to-cdb-body), with 10,000 systems registered
// ($BENCH_SYSTEMS). dig is run as a process for every poll, so the DNS
// figures include a process start.
func BenchmarkSettingVisibility(b *testing.B) {
	testenv.NeedCommand(b, "dig")
	s := startFleet(b)
	var dnsTotal, cdbTotal, cdbBody, addDNS, addCDB, addAck, addAPI time.Duration
	poll := &cdbPoller{b: b, url: s.URL}
	for i := 0; b.Loop(); i++ {
		want := fmt.Sprint(1000 + i)
		s.ok("setting", "set", "bench.value", want)
		set := time.Now()
		for s.dig("TXT", "bench.value.dsas") != `"`+want+`"` {
			time.Sleep(time.Millisecond)
		}
		dnsTotal += time.Since(set)
		served, body := poll.waitFor("bench.value.dsas", want)
		cdbTotal += served.Sub(set)
		cdbBody += body.Sub(set)

		name := fmt.Sprintf("new%06d", i)
		start := time.Now()
		s.ok("system", "add", name, "--mac", fmt.Sprintf("02:aa:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
			"--ip", fmt.Sprintf("172.31.%d.%d", 200+i/250%50, 2+i%250), "--profile", "web")
		added := time.Now()
		addAck += added.Sub(start)
		for s.dig("A", name+".dsas") == "" {
			time.Sleep(time.Millisecond)
		}
		addDNS += time.Since(added)
		served, _ = poll.waitFor("profile."+name+"._host.dsas", "web")
		addCDB += served.Sub(added)

		// The same through the API, without the CLI's process start.
		doc := fmt.Sprintf(`{"name":"api%06d","macs":["02:ab:00:%02x:%02x:%02x"],"ip":"172.31.%d.%d","profile":"web"}`,
			i, i>>16&0xff, i>>8&0xff, i&0xff, 150+i/250%50, 2+i%250)
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/systems", strings.NewReader(doc))
		req.Header.Set("Authorization", "Bearer "+s.Token)
		req.Header.Set("Content-Type", "application/json")
		start = time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		addAPI += time.Since(start)
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			b.Fatalf("POST /api/v1/systems: %s", resp.Status)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(dnsTotal), "ms-to-dns")
	b.ReportMetric(ms(cdbTotal), "ms-to-cdb")
	b.ReportMetric(ms(cdbBody), "ms-to-cdb-body")
	b.ReportMetric(ms(addAck), "ms-add-cli")
	b.ReportMetric(ms(addAPI), "ms-add-api")
	b.ReportMetric(ms(addDNS), "ms-add-to-dns")
	b.ReportMetric(ms(addCDB), "ms-add-to-cdb")
	b.ReportMetric(rssMiB(b, s.cmd.Process.Pid), "MiB-rss")
}

// rssMiB is the resident memory of process pid.
func rssMiB(b *testing.B, pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// cdbPoller fetches data.cdb whenever its ETag changes.
type cdbPoller struct {
	b    *testing.B
	url  string
	etag string
}

// waitFor polls until the served data.cdb holds want at name; it returns
// when the response of that version started, and when it was checked.
func (p *cdbPoller) waitFor(name, want string) (served, checked time.Time) {
	for {
		req, _ := http.NewRequest("GET", p.url+"/zone/data.cdb", nil)
		if p.etag != "" {
			req.Header.Set("If-None-Match", p.etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.b.Fatal(err)
		}
		at := time.Now()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotModified {
			time.Sleep(time.Millisecond)
			continue
		}
		p.etag = resp.Header.Get("ETag")
		if holds(buf.Bytes(), name, want) {
			return at, time.Now()
		}
	}
}

func holds(data []byte, name, want string) bool {
	r, err := cdb.New(data)
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

func cdbHas(b *testing.B, url, name, want string) bool {
	resp, err := http.Get(url + "/zone/data.cdb")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return holds(buf.Bytes(), name, want)
}

// BenchmarkZonecfgProcess: `zonecfg get` as a boot script runs it, from
// process start to exit, against the data.cdb of 10,000 systems
// ($BENCH_SYSTEMS).
func BenchmarkZonecfgProcess(b *testing.B) {
	s := startFleet(b)
	path := s.fetchCDB()
	st, _ := os.Stat(path)
	defer b.ReportMetric(float64(st.Size())/(1<<20), "MiB-cdb")
	for b.Loop() {
		mid := fleetSize() / 2
		out, err := exec.CommandContext(context.Background(), zonecfg, "--cdb", path, "--host", fmt.Sprintf("h%05d", mid), "get", "mysql.server_id").CombinedOutput()
		if err != nil || string(out) != fmt.Sprintln(mid) {
			b.Fatalf("%q %v", out, err)
		}
	}
}

// BenchmarkRestart: the life of an appliance with 10,000 systems
// ($BENCH_SYSTEMS), started afresh at every iteration. ms-import is
// `provision import` of the fleet as a process, start to exit (in the lab
// through `ip netns exec`), and ms-import-dns until DNS answers the last
// system's setting (the zone is rebuilt in the background);
// MiB-rss-import is the server's RSS then, once settled (it moved less
// than 1 % over 2 s; 30 s at most). Then SIGTERM, its exit, and the
// server started again on the same data: ms-restart-dns, -cdb, -ipxe and
// -dhcp are from the process start until a DNS query for the last
// system's TXT setting, GET /zone/data.cdb (a 200 that holds it; when its
// response started), its iPXE script (GET /boot/MAC.ipxe) and a
// DHCPDISCOVER from a registered MAC (its OFFER) answer right, all polled
// at once; ms-restart-http is the later of the two HTTP ones.
// MiB-rss-restart is settled as above. ms-cpu-import and ms-cpu-restart
// are the CPU time the server used from the import's start until DNS
// answered, and from its restart until every client had its answer
// (steadier than the wall clock on a busy machine); ms-cpu-import-cli is
// the CPU time of the import process. Every figure is the
// median of the iterations (-benchtime 3x). DHCP needs root: the server then runs in a
// lab network (netns, veths) with --dhcp-interface, else on 127.0.0.1
// without DHCP (and without ms-restart-dhcp).
func BenchmarkRestart(b *testing.B) {
	rig := newRestartRig(b)
	file := filepath.Join(b.TempDir(), "fleet.yaml")
	os.WriteFile(file, restartFleet(fleetSize()), 0o644)
	root := b.TempDir()
	metrics := map[string][]float64{}
	for i := 0; b.Loop(); i++ {
		data := filepath.Join(root, fmt.Sprint(i))
		for unit, v := range rig.lifetime(data, file) {
			metrics[unit] = append(metrics[unit], v)
		}
		os.RemoveAll(data)
	}
	for unit, vs := range metrics {
		b.ReportMetric(median(vs), unit)
	}
}
