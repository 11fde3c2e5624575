package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/internal/testenv"
)

// dig runs dig against the appliance and returns its +short output.
func (s *server) dig(args ...string) string {
	s.t.Helper()
	host, port, _ := strings.Cut(s.DNS, ":")
	out, err := exec.Command("dig", append([]string{"@" + host, "-p", port, "+short", "+time=2", "+tries=1"}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("dig %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// fetchCDB downloads the served data.cdb into a fresh directory.
func (s *server) fetchCDB() string {
	s.t.Helper()
	resp, err := http.Get(s.URL + "/zone/data.cdb")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET /zone/data.cdb: %s", resp.Status)
	}
	path := filepath.Join(s.t.TempDir(), "data.cdb")
	os.WriteFile(path, b, 0o644)
	return path
}

// zonecfgRun runs zonecfg with the given arguments in dir.
func zonecfgRun(t testing.TB, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(zonecfg, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// both gets KEY for host through the data.cdb (as ./data.cdb, the DSAS
// convention) and through DNS, and checks they agree.
func (s *server) both(host, key string) result {
	s.t.Helper()
	dir := filepath.Dir(s.fetchCDB())
	fromCDB := zonecfgRun(s.t, dir, "--host", host, "get", key)
	fromDNS := zonecfgRun(s.t, s.t.TempDir(), "--server", s.DNS, "--zone", "dsas", "--host", host, "get", key)
	// Where it looked differs; what it found (or not) must not.
	fromCDB.Err, _, _ = strings.Cut(fromCDB.Err, " (looked in")
	fromDNS.Err, _, _ = strings.Cut(fromDNS.Err, " (looked in")
	if fromCDB != fromDNS {
		s.t.Fatalf("zonecfg get %s for %s: data.cdb says %+v, DNS says %+v", key, host, fromCDB, fromDNS)
	}
	return fromCDB
}

func TestDNSAndZonecfg(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	s.ok("system", "add", "lvs001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web")
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-web")

	start := time.Now()
	s.ok("setting", "set", "lvs.vrid", "100")
	for s.dig("TXT", "lvs.vrid.dsas") != `"100"` {
		if time.Since(start) > time.Second {
			t.Fatalf("lvs.vrid not visible in DNS within a second: %q", s.dig("TXT", "lvs.vrid.dsas"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("setting set -> visible to dig: %v", time.Since(start))
	if got := s.dig("A", "web001.dsas"); got != "10.0.0.12" {
		t.Fatalf("A web001.dsas: %q", got)
	}
	if got := s.dig("-x", "10.0.0.12"); got != "web001.dsas." {
		t.Fatalf("PTR: %q", got)
	}
	if r := s.both("web001", "lvs.vrid"); r.Out != "100\n" || r.Code != 0 {
		t.Fatalf("zonecfg get lvs.vrid: %+v", r)
	}
	if r := s.both("web001", "role"); r.Out != "web\n" {
		t.Fatalf("profile setting: %+v", r)
	}

	long := strings.Repeat("abcdefghij", 100)
	s.ok("setting", "set", "big.value", long)
	s.ok("system", "edit", "lvs001", "--set", "lvs.vrid=7")
	s.waitDNS("TXT", "lvs.vrid.lvs001._host.dsas", `"7"`)
	if r := s.both("web001", "big.value"); r.Out != long+"\n" {
		t.Fatalf("1,000-byte value: %d bytes back", len(r.Out))
	}
	if r := s.both("lvs001", "lvs.vrid"); r.Out != "7\n" {
		t.Fatalf("host override: %+v", r)
	}
	if r := s.both("web001", "lvs.vrid"); r.Out != "100\n" {
		t.Fatalf("override leaked to another host: %+v", r)
	}
	s.ok("setting", "unset", "lvs.vrid")
	s.waitDNS("TXT", "lvs.vrid.dsas", "")
	if r := s.both("web001", "lvs.vrid"); r.Code != 1 || r.Err != "zonecfg: lvs.vrid: not found" {
		t.Fatalf("removed setting: %+v", r)
	}
	dump := zonecfgRun(t, filepath.Dir(s.fetchCDB()), "--host", "lvs001", "dump")
	if !strings.Contains(dump.Out, "lvs.vrid\t7\thost lvs001\n") || !strings.Contains(dump.Out, "big.value\t"+long+"\tglobal\n") {
		t.Fatalf("dump:\n%s", dump.Out)
	}
	_, body := s.get("/metrics")
	metrics := []byte(body)
	for _, re := range []string{`provision_dns_queries_total [1-9]`, `provision_dns_replies_total\{rcode="NOERROR"\} [1-9]`, `provision_dns_replies_total\{rcode="NXDOMAIN"\} [1-9]`} {
		if !regexp.MustCompile(re).Match(metrics) {
			t.Errorf("/metrics lacks %s", re)
		}
	}
}

// waitDNS polls until dig answers want (up to 5 s).
func (s *server) waitDNS(qtype, name, want string) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for got := s.dig(qtype, name); got != want; got = s.dig(qtype, name) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s %s: %q, want %q", qtype, name, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServedCDB(t *testing.T) {
	defer parallel(t)()
	cdbTool := testenv.NeedCommand(t, "cdb")
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-web")
	s.ok("setting", "set", "lvs.vrid", "100")
	resp, err := http.Get(s.URL + "/zone/data.cdb")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", s.URL+"/zone/data.cdb", nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match %s: %v %v", etag, resp.Status, err)
	}
	path := s.fetchCDB()
	out, err := exec.Command(cdbTool, "-d", path).Output()
	if err != nil {
		t.Fatalf("cdb -d: %v", err)
	}
	b, _ := os.ReadFile(path)
	r, err := cdb.New(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, []byte("\n+")) + 1; n != r.Len() || r.Len() < 10 {
		t.Fatalf("cdb -d listed %d records, the file has %d", n, r.Len())
	}
	if !bytes.Contains(out, []byte("\x03lvs\x04vrid\x04dsas\x00->")) {
		t.Fatalf("cdb -d does not list lvs.vrid.dsas")
	}
}

func TestZoneImportAndExport(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-web")
	s.ok("setting", "set", "lvs.vrid", "100")
	dir := t.TempDir()
	clash := filepath.Join(dir, "clash")
	os.WriteFile(clash, []byte(".dsas:10.0.0.2:a\n+mail.dsas:10.0.0.25\n+web001.dsas:10.0.0.99\n'lvs.vrid.dsas:5\n"), 0o644)
	s.fails("web001.dsas.", "zone", "import", clash)
	if r := s.run(nil, "zone", "import", clash); !strings.Contains(r.Err, "lvs.vrid.dsas.") {
		t.Fatalf("every clash must be named: %s", r.Err)
	}
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(".dsas:10.0.0.2:a\n+mail.dsas:10.0.0.25\n@dsas::mail.dsas:10\n'spf.dsas:v=spf1 -all\n"), 0o644)
	if out := s.ok("zone", "import", good); !strings.Contains(out, "4 records added") {
		t.Fatalf("import: %s", out)
	}
	s.waitDNS("A", "mail.dsas", "10.0.0.25")
	exported := filepath.Join(dir, "data")
	os.WriteFile(exported, []byte(s.ok("zone", "export", "--format", "tinydns")), 0o644)
	compiled := filepath.Join(dir, "data.cdb")
	s.ok("zone", "compile", exported, compiled)
	served, _ := os.ReadFile(s.fetchCDB())
	mine, _ := os.ReadFile(compiled)
	if !bytes.Equal(served, mine) {
		t.Fatalf("compiling the exported zone gives other records than the served data.cdb (%d vs %d bytes)", len(mine), len(served))
	}
}

// With DNS off the zone still follows the registry: a setting changed
// after the start is in the next data.cdb.
func TestDataCDBFollowsWithDNSOff(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir(), "--dns", "")
	if s.DNS != "" {
		t.Fatalf("DNS listens on %s with --dns \"\"", s.DNS)
	}
	for _, v := range []string{"100", "101"} {
		s.ok("setting", "set", "lvs.vrid", v)
		var got result
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			got = zonecfgRun(t, t.TempDir(), "--cdb", s.fetchCDB(), "--host", "nohost", "get", "lvs.vrid")
			if got.Out == v+"\n" {
				break
			}
		}
		if got.Out != v+"\n" {
			t.Fatalf("after setting set lvs.vrid %s, data.cdb gives %q (exit %d, %s)", v, got.Out, got.Code, got.Err)
		}
	}
}

// Settings are published to anyone: a key named like a secret is refused
// unless --public says it holds none, for global, profile and system
// settings, naming the object; an object that has one can still be edited.
func TestSecretLookingSettingKeys(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	s.fails(`global: setting db.password looks like a secret (its name has "password")`, "setting", "set", "db.password", "hunter2")
	s.fails("give --public if it is not one", "setting", "set", "API_TOKEN", "x")
	s.fails(`profile p2: setting ldap.secret looks like a secret`, "profile", "add", "p2", "--image", "centos", "--set", "ldap.secret=x")
	s.fails(`system web009: setting vpn.passwd looks like a secret`, "system", "add", "web009", "--mac", "aa:bb:cc:00:00:09",
		"--ip", "10.0.0.19", "--profile", "centos-web", "--set", "vpn.passwd=x")
	if out := s.ok("setting", "list"); strings.Contains(out, "db.password") {
		t.Errorf("a refused setting was stored:\n%s", out)
	}
	s.ok("setting", "set", "db.password", "none", "--public")
	s.ok("system", "add", "web009", "--mac", "aa:bb:cc:00:00:09", "--ip", "10.0.0.19", "--profile", "centos-web",
		"--set", "token.bucket.size=10", "--public")
	s.ok("system", "edit", "web009", "--set", "role=web") // keeps token.bucket.size as it was
	s.fails("setting token.bucket.size looks like a secret", "system", "edit", "web009", "--set", "token.bucket.size=20")
	if got := s.dig("TXT", "db.password.internal"); got != `"none"` {
		t.Errorf("the public setting is not served: %q", got)
	}
}

// Item 16 of the hardening issue: a new database (a reinstalled
// appliance, a restored backup gone wrong) with as many changes as the
// old one must not repeat its SOA serial or its data.cdb ETag, or
// secondaries and boot scripts that cached the old zone keep it. The SOA
// serial counts from the database's creation time, so the new one is
// ahead; the ETag carries the database's random identity.
func TestSerialAndETagPerDatabase(t *testing.T) {
	defer parallel(t)()
	type seen struct {
		soa  uint64
		etag string
	}
	look := func() seen {
		s := startServer(t, t.TempDir(), "--zone", "dsas")
		defer s.Stop()
		s.ok("setting", "set", "lvs.vrid", "100")
		s.waitDNS("TXT", "lvs.vrid.dsas", `"100"`)
		f := strings.Fields(s.dig("SOA", "dsas"))
		if len(f) != 7 {
			t.Fatalf("SOA: %v", f)
		}
		soa, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(s.URL + "/zone/data.cdb")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return seen{soa, resp.Header.Get("ETag")}
	}
	first := look()
	time.Sleep(1100 * time.Millisecond) // the next database is made a second later
	second := look()
	if first.etag == second.etag || first.etag == "" {
		t.Errorf("two databases, one data.cdb ETag: %q", first.etag)
	}
	if second.soa <= first.soa || first.soa < 1_700_000_000 {
		t.Errorf("SOA serials %d then %d: the new database's must be ahead, counted from its creation time", first.soa, second.soa)
	}
}
