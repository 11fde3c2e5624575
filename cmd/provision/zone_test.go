package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/dnsconf/tinydns"
	"github.com/provision/provision/internal/testenv"
)

// provision zone compile reproduces tinydns-data's data.cdb byte for byte.
// Each vector's serial file holds the mtime its data.cdb was made with
// (see dnsconf/testdata/tinydns/README.md).
func TestZoneCompileGolden(t *testing.T) {
	defer parallel(t)()
	dirs, _ := filepath.Glob("../../dnsconf/testdata/tinydns/t*")
	if len(dirs) != 8 {
		t.Fatalf("found %d golden vectors, want 8", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			serial, err := os.ReadFile(filepath.Join(dir, "serial"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "data.cdb")
			cmd := exec.Command(cli, "zone", "compile", "--serial", strings.TrimSpace(string(serial)), filepath.Join(dir, "data"), out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			got, _ := os.ReadFile(out)
			want, _ := os.ReadFile(filepath.Join(dir, "data.cdb"))
			if !bytes.Equal(got, want) {
				t.Fatalf("data.cdb differs from tinydns-data's (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

func TestZoneCompileErrors(t *testing.T) {
	defer parallel(t)()
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "data.cdb")
	os.WriteFile(out, []byte("old"), 0o644)
	os.WriteFile(data, []byte("+ok.test:1.2.3.4\n!bad line\n"), 0o644)
	b, err := exec.Command(cli, "zone", "compile", data, out).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "unable to parse data line 2") {
		t.Fatalf("bad line: %v %s", err, b)
	}
	if old, _ := os.ReadFile(out); string(old) != "old" {
		t.Fatal("a failed compile replaced the old data.cdb")
	}
	if b, err := exec.Command(cli, "zone", "compile", "--serial", "x", data, out).CombinedOutput(); err == nil {
		t.Fatalf("bad serial accepted: %s", b)
	}
}

// zoneExportDoc is a registry of n systems on lan (10.0.0.0/24), mgmt
// (10.0.1.0/24) and rack (10.2.0.0/22, four reverse zones), with BMCs,
// settings and static records, as `provision import` reads it.
func zoneExportDoc(n int) []byte {
	var b strings.Builder
	b.WriteString("settings:\n  lvs.vrid: \"100\"\nsubnets:\n  - {name: rack, cidr: 10.2.0.0/22, gateway: 10.2.0.1}\n")
	b.WriteString("records:\n  - \"mail.dsas. 300 IN A 10.0.0.25\"\n  - \"dsas. 300 IN MX 10 mail.dsas.\"\n")
	b.WriteString("  - \"www.dsas. 300 IN CNAME sys0001.dsas.\"\n  - \"_ldap._tcp.dsas. 300 IN SRV 0 0 389 sys0002.dsas.\"\n")
	b.WriteString("  - \"spf.dsas. 300 IN TXT \\\"v=spf1 mx -all\\\"\"\n")
	b.WriteString("systems:\n")
	for i := range n {
		var ip string
		switch {
		case i < 100:
			ip = fmt.Sprintf("10.0.0.%d", 10+i)
		case i < 200:
			ip = fmt.Sprintf("10.0.1.%d", 10+i-100)
		default:
			ip = fmt.Sprintf("10.2.%d.%d", (i-200)/250, 2+(i-200)%250)
		}
		fmt.Fprintf(&b, "  - name: sys%04d\n    hostname: sys%04d.dsas\n    macs: [\"52:54:00:77:%02x:%02x\"]\n    ip: %s\n    profile: centos-web\n",
			i+1, i+1, i/256, i%256, ip)
		fmt.Fprintf(&b, "    settings: {rack: \"r%d\"}\n", i%20)
	}
	return []byte(b.String())
}

// The zone files of a registry of 600 systems (a forward zone and six
// reverse zones) each load in NSD and BIND on their own, with no error
// and no warning; together they hold every record the appliance serves.
func TestZoneExportLoadsInNSDAndBIND(t *testing.T) {
	defer parallel(t)()
	nsd := testenv.NeedCommand(t, "nsd-checkzone")
	bind := testenv.NeedCommand(t, "named-checkzone")
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	doc := filepath.Join(t.TempDir(), "registry.yaml")
	os.WriteFile(doc, zoneExportDoc(600), 0o644)
	s.ok("import", doc)
	s.waitDNS("A", "sys0600.dsas", "10.2.1.151")
	dir := filepath.Join(t.TempDir(), "zones") // made by the export
	out := s.ok("zone", "export", "--dir", dir)
	zones := []string{"0.0.10.in-addr.arpa.", "1.0.10.in-addr.arpa.", "0.2.10.in-addr.arpa.", "1.2.10.in-addr.arpa.",
		"2.2.10.in-addr.arpa.", "3.2.10.in-addr.arpa.", "dsas."}
	total := 0
	for _, z := range zones {
		path := filepath.Join(dir, strings.TrimSuffix(z, ".")+".zone")
		if !strings.Contains(out, path+": zone "+z+", ") {
			t.Errorf("zone export --dir does not name %s:\n%s", path, out)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(text), "$ORIGIN "+z+"\n"+z+"\t") || !strings.Contains(strings.SplitN(string(text), "\n", 3)[1], "\tSOA\t") {
			t.Errorf("%s does not start with its SOA:\n%.300s", path, text)
		}
		total += strings.Count(string(text), "\n") - 1
		testenv.CheckZoneFile(t, nsd, bind, z, path)
	}
	cdb, _ := os.ReadFile(s.fetchCDB())
	if recs, err := tinydns.ReadCDB(cdb); err != nil || total != len(recs) || total < 600*2 {
		t.Errorf("the zone files hold %d records, the served data.cdb %d (%v)", total, len(recs), err)
	}
	one := s.ok("zone", "export", "--zone", "2.2.10.IN-ADDR.ARPA")
	if file, _ := os.ReadFile(filepath.Join(dir, "2.2.10.in-addr.arpa.zone")); one != string(file) {
		t.Errorf("--zone 2.2.10.in-addr.arpa differs from its file in --dir:\n%.300s", one)
	}
	if all := s.ok("zone", "export", "--format", "zone"); strings.Count(all, "$ORIGIN ") != len(zones) || !strings.Contains(all, one) {
		t.Errorf("--format zone writes %d zones, want %d, each whole", strings.Count(all, "$ORIGIN "), len(zones))
	}
	s.fails("zone 9.9.10.in-addr.arpa.: the appliance serves no such zone (it serves 0.0.10.in-addr.arpa.", "zone", "export", "--zone", "9.9.10.in-addr.arpa")
	s.fails("--zone and --dir write zone files: they go with --format zone", "zone", "export", "--format", "tinydns", "--zone", "dsas")
}
