package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/miekg/dns"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// The Cobbler fixture: 4 distros (one without its files, which becomes an
// image registered without files), 6 profiles, 52 systems (see
// cobbler/fixture_test.go for its conflicts).
const cobblerFixture = "../../cobbler/testdata/cobbler"

// The conflicts of the fixture against a registry whose legacy01 has
// mon002's IP.
var cobblerConflicts = []string{
	`system cache004: interface eth0: mac "52:54:00:zz:00:04" is not a MAC address`,
	"ip 10.10.0.23 is claimed by systems web013 and web014",
	"mac 52:54:00:11:00:14 is claimed by systems db003 and web020",
	"ip 10.10.0.62 of system mon002 is already used by system legacy01 of the registry",
}

func TestImportCobbler(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	root := filepath.Join(cobblerFixture, "root")
	kernel := filepath.Join(root, "var/www/cobbler/distro_mirror/centos7-x86_64/images/pxeboot")
	s.ok("subnet", "add", "lan", "--cidr", "10.10.0.0/24", "--gateway", "10.10.0.1", "--pool", "10.10.0.200-10.10.0.250", "--dns-server", "10.10.0.2")
	s.ok("image", "add", "legacy", "--kernel", filepath.Join(kernel, "vmlinuz"), "--initrd", filepath.Join(kernel, "initrd.img"))
	s.ok("profile", "add", "legacy", "--image", "legacy")
	s.ok("system", "add", "legacy01", "--mac", "52:54:00:99:00:01", "--ip", "10.10.0.62", "--profile", "legacy")
	before := s.ok("export")
	imp := []string{"import", "--from", "cobbler", cobblerFixture, "--root", root}

	// The dry run prints the plan and every conflict, has the appliance
	// check the rest, and writes nothing: with conflicts, it fails.
	r := s.run(nil, append(imp, "--dry-run")...)
	for _, want := range append([]string{
		"cobbler ../../cobbler/testdata/cobbler: 4 distros, 6 profiles, 52 systems\n",
		"plan: 4 images, 6 profiles, 2 templates, 2 subnets, 46 systems\n",
		"  + system web001 (10.10.0.11, 52:54:00:10:00:01,52:54:00:11:00:01, profile centos7-web, installed, netboot false, bmc ipmi 10.0.1.11)\n",
		"  + subnet cobbler-10-10-1-0-24 (10.10.1.0/24, gateway 10.10.1.1, dns 10.10.0.2)\n",
		"conflicts (4):\n", "left out (6):\n", "  system mon002: in a conflict\n",
		"  + image ubuntu22-x86_64 (no files: to upload)\n",
		"registered without files (1):\n  image ubuntu22-x86_64: registered without files (kernel ../../cobbler/testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/vmlinuz: no such file; " +
			"initrd ../../cobbler/testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/initrd: no such file): " +
			"upload them with `provision image edit ubuntu22-x86_64 --kernel FILE --initrd FILE`\n",
		"profile rocky9-db: template sample.ks needs review: uses Cheetah features",
		"system lb001.dc1.example.com: power type apc_snmp at 10.0.2.5 (provision speaks to BMCs by IPMI and Redfish only)",
		"mgmt_classes (profile centos7-base, profile centos7-web, system web003): configuration management classes",
		"with --skip-conflicts, would import: 60 added, 0 changed, 0 unchanged\n",
	}, cobblerConflicts...) {
		if !strings.Contains(r.Out, want) {
			t.Errorf("dry run: no %q in:\n%s", want, r.Out)
		}
	}
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: 4 conflicts, the import would write nothing (--skip-conflicts imports the rest):\n  ") {
		t.Errorf("dry run: exit %d, stderr %q", r.Code, r.Err)
	}
	if after := s.ok("export"); after != before {
		t.Fatalf("the dry run wrote:\n%s", after)
	}

	// Without --skip-conflicts: nothing written, every conflict listed.
	r = s.run(nil, imp...)
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: 4 conflicts, nothing was written (--skip-conflicts imports the rest):\n") {
		t.Errorf("import: exit %d, stderr %q", r.Code, r.Err)
	}
	for _, c := range cobblerConflicts {
		if !strings.Contains(r.Err, "\n  "+c+"\n") && !strings.HasSuffix(r.Err, "\n  "+c+"\n") {
			t.Errorf("import's error does not list %q:\n%s", c, r.Err)
		}
	}
	if after := s.ok("export"); after != before {
		t.Fatalf("a refused import wrote:\n%s", after)
	}

	// With --skip-conflicts, the rest.
	out := s.ok(append(imp, "--skip-conflicts")...)
	for _, want := range []string{"uploaded 6 files", "imported: 60 added, 0 changed, 0 unchanged\n", "left out: 6 objects", "  system web013: in a conflict\n", "registered without files: 1 image (listed above)"} {
		if !strings.Contains(out, want) {
			t.Errorf("import --skip-conflicts: no %q in:\n%s", want, out)
		}
	}
	var systems []registry.System
	if err := json.Unmarshal([]byte(s.ok("system", "list", "-o", "json")), &systems); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, x := range systems {
		names[x.Name] = true
	}
	if len(systems) != 47 || !names["lb001"] || names["web013"] || names["mon002"] || !names["app001"] {
		t.Errorf("%d systems after the import, want legacy01 and 46 of Cobbler's: %v", len(systems), names)
	}
	for kind, want := range map[string]int{"image": 5, "profile": 7, "subnet": 3} {
		var items []json.RawMessage
		json.Unmarshal([]byte(s.ok(kind, "list", "-o", "json")), &items)
		if len(items) != want {
			t.Errorf("%d %ss, want %d", len(items), kind, want)
		}
	}
	checkCobblerSystems(t, s)
	if out := s.ok(append(imp, "--skip-conflicts")...); !strings.Contains(out, "imported: 0 added, 0 changed, 58 unchanged\n") {
		t.Errorf("a second import changed things:\n%s", out)
	}
	checkCobblerDNS(t, s)
	checkCobblerDHCP(t, s)
}

func checkCobblerSystems(t *testing.T, s *server) {
	t.Helper()
	for name, want := range map[string]string{
		"web021": `"hostname":"web021.dc1.example.com","macs":["52:54:00:10:00:15","52:54:00:11:00:15"],"ip":"10.10.0.31","profile":"centos7-web","netboot":true,"bmc":{"address":"10.0.1.31","user":"admin","password_set":true,"provider":"ipmi"},"status":"pending"`,
		"web001": `"hostname":"web001.dc1.example.com","macs":["52:54:00:10:00:01","52:54:00:11:00:01"],"ip":"10.10.0.11","profile":"centos7-web","netboot":false,"kernel_args":"nomodeset","bmc":{"address":"10.0.1.11","user":"admin","password_set":true,"provider":"ipmi"},"status":"installed"`,
		"db001":  `"hostname":"db001.dc1.example.com","macs":["52:54:00:20:00:01","52:54:00:21:00:01"],"ip":"10.10.1.11","profile":"rocky9-db","netboot":false,"settings":{"mysql.server_id":"1"},"bmc":{"address":"10.0.1.101","user":"root","password_set":true,"provider":"redfish"},"status":"diskless"`,
		"lb001":  `"hostname":"lb001.dc1.example.com","macs":["52:54:00:30:00:01","52:54:00:30:01:01"],"ip":"10.10.2.11","profile":"debian12-lb","netboot":false,"status":"installed"`,
	} {
		var raw map[string]any
		if err := json.Unmarshal([]byte(s.ok("system", "show", name, "--json")), &raw); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "name", "status_since", "deadline"} {
			delete(raw, k)
		}
		got, _ := json.Marshal(raw)
		var w map[string]any
		json.Unmarshal([]byte("{"+want+"}"), &w)
		wantJSON, _ := json.Marshal(w)
		if string(got) != string(wantJSON) {
			t.Errorf("system show %s:\n got %s\nwant %s", name, got, wantJSON)
		}
	}
}

// The imported systems are answered in DNS; the ones left out are not.
func checkCobblerDNS(t *testing.T, s *server) {
	t.Helper()
	for name, want := range map[string]string{"web001": "10.10.0.11", "lb001": "10.10.2.11", "db008": "10.10.1.18", "web013": ""} {
		m := new(dns.Msg)
		m.SetQuestion(name+".internal.", dns.TypeA)
		var got string
		for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(20 * time.Millisecond) {
			r, err := dns.Exchange(m, s.DNS)
			if err != nil {
				t.Fatal(err)
			}
			got = ""
			if len(r.Answer) == 1 {
				got = r.Answer[0].(*dns.A).A.String()
			}
			if got == want {
				break
			}
		}
		if got != want {
			t.Errorf("A %s.internal: %q, want %q", name, got, want)
		}
	}
}

// The imported systems get their reservations: the appliance's export in
// a registry of its own, answered by the DHCP server's Reply, for a MAC of
// each interface, one through a relay.
func checkCobblerDHCP(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	reg := registrytest.OpenZone(t, "internal")
	if _, err := reg.Import(ctx, []byte(s.ok("export")), false); err != nil {
		t.Fatal(err)
	}
	env := dhcp.Env{Config: dhcp.Config{ServerIP: netip.MustParseAddr("10.10.0.5")}, Hosts: bind.NewDHCP(reg, "").Snapshot(), Now: time.Now()}
	for _, c := range []struct{ mac, relay, want string }{
		{"52:54:00:10:00:01", "", "10.10.0.11"},          // web001 eth0
		{"52:54:00:11:00:01", "", "10.10.0.11"},          // web001 eth1: the system's MACs are all its interfaces'
		{"52:54:00:20:00:05", "10.10.1.1", "10.10.1.15"}, // db005 through the relay of its subnet
		{"52:54:00:30:01:03", "10.10.2.1", "10.10.2.13"}, // lb003's second bond slave
		{"52:54:00:10:00:0d", "", ""},                    // web013, left out
	} {
		mac, _ := net.ParseMAC(c.mac)
		var mods []dhcpv4.Modifier
		if c.relay != "" {
			mods = append(mods, dhcpv4.WithGatewayIP(net.ParseIP(c.relay)))
		}
		req, err := dhcpv4.NewDiscovery(mac, mods...)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := dhcp.Reply(req, env)
		got := ""
		if resp != nil {
			got = resp.YourIPAddr.String()
		}
		if got != c.want {
			t.Errorf("DHCPDISCOVER from %s: offer %q (%v), want %q", c.mac, got, err, c.want)
		}
	}
}

// cobblerCollectionsOnly writes a copy of a Cobbler server's collections
// without the distro trees: the fixture's distros and profiles, and 50
// clean systems in the shape of the fixture's (its web021, renamed and
// renumbered, on its six profiles), node001 to node050, plus two
// deliberate conflicts: node051's MAC is not one, node052 has the IP of
// the registry's legacy01 (10.10.0.250).
func cobblerCollectionsOnly(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, kind := range []string{"distros", "profiles"} {
		os.MkdirAll(filepath.Join(dir, "collections", kind), 0o755)
		files, _ := filepath.Glob(filepath.Join(cobblerFixture, "collections", kind, "*.json"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(dir, "collections", kind, filepath.Base(f)), b, 0o644)
		}
	}
	shape, err := os.ReadFile(filepath.Join(cobblerFixture, "collections/systems/web021.json"))
	if err != nil {
		t.Fatal(err)
	}
	profiles := []string{"centos7-web", "centos7-base", "rocky9-db", "rocky9-rescue", "debian12-lb", "ubuntu22-app"}
	os.MkdirAll(filepath.Join(dir, "collections", "systems"), 0o755)
	for i := 1; i <= 52; i++ {
		var s map[string]any
		json.Unmarshal(shape, &s)
		name, mac, ip := fmt.Sprintf("node%03d", i), fmt.Sprintf("52:54:00:70:00:%02x", i), fmt.Sprintf("10.10.0.%d", 10+i)
		switch i {
		case 51:
			mac = "52:54:00:70:00:zz"
		case 52:
			ip = "10.10.0.250"
		}
		eth0 := s["interfaces"].(map[string]any)["eth0"].(map[string]any)
		eth0["mac_address"], eth0["ip_address"], eth0["dns_name"] = mac, ip, name+".dc1.example.com"
		s["interfaces"] = map[string]any{"eth0": eth0}
		s["name"], s["hostname"], s["profile"], s["netboot_enabled"] = name, name+".dc1.example.com", profiles[i%len(profiles)], i%2 == 0
		s["power_address"], s["power_pass"] = fmt.Sprintf("10.0.1.%d", 10+i), "bmc-"+name
		b, _ := json.MarshalIndent(s, "", "    ")
		os.WriteFile(filepath.Join(dir, "collections", "systems", name+".json"), b, 0o644)
	}
	return dir
}

// A copy of the collections without the distro files, imported as a new
// user would (no --root): the 50 clean systems arrive, under images
// registered without files, the two conflicts are reported and only
// their systems left out. A network boot of such an image fails naming
// it until `image edit` uploads its files.
func TestImportCobblerCollectionsOnly(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	s.ok("subnet", "add", "lan", "--cidr", "10.10.0.0/24", "--gateway", "10.10.0.1")
	kernel := filepath.Join(cobblerFixture, "root/var/www/cobbler/distro_mirror/centos7-x86_64/images/pxeboot")
	s.ok("image", "add", "legacy", "--kernel", filepath.Join(kernel, "vmlinuz"), "--initrd", filepath.Join(kernel, "initrd.img"))
	s.ok("profile", "add", "legacy", "--image", "legacy")
	s.ok("system", "add", "legacy01", "--mac", "52:54:00:99:00:01", "--ip", "10.10.0.250", "--profile", "legacy")
	dir := cobblerCollectionsOnly(t)
	conflicts := []string{`system node051: interface eth0: mac "52:54:00:70:00:zz" is not a MAC address`,
		"ip 10.10.0.250 of system node052 is already used by system legacy01 of the registry"}
	r := s.run(nil, "import", "--from", "cobbler", dir)
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: 2 conflicts, nothing was written (--skip-conflicts imports the rest):\n  "+strings.Join(conflicts, "\n  ")+"\n") {
		t.Errorf("import: exit %d, stderr %q", r.Code, r.Err)
	}
	out := s.ok("import", "--from", "cobbler", dir, "--skip-conflicts")
	for _, want := range []string{"plan: 4 images, 6 profiles, 0 templates, 0 subnets, 50 systems\n", "conflicts (2):\n", "left out (2):\n",
		"registered without files (4):\n", "  image centos7-x86_64: registered without files (kernel /var/www/cobbler/distro_mirror/centos7-x86_64/images/pxeboot/vmlinuz: no such file; " +
			"initrd /var/www/cobbler/distro_mirror/centos7-x86_64/images/pxeboot/initrd.img: no such file): upload them with `provision image edit centos7-x86_64 --kernel FILE --initrd FILE`\n",
		"imported: 60 added, 0 changed, 0 unchanged\n", "registered without files: 4 images (listed above)"} {
		if !strings.Contains(out, want) {
			t.Errorf("import --skip-conflicts: no %q in:\n%s", want, out)
		}
	}
	var systems []registry.System
	json.Unmarshal([]byte(s.ok("system", "list", "-o", "json")), &systems)
	if len(systems) != 51 {
		t.Errorf("%d systems after the import, want legacy01 and node001 to node050", len(systems))
	}
	// node002 (rocky9-db, netboot on): its boot names the image to upload.
	want := "image rocky9-x86_64 has no files yet: upload them with `provision image edit rocky9-x86_64 --kernel FILE --initrd FILE`"
	if rep := s.ok("system", "report", "node002"); !strings.Contains(rep, want) {
		t.Errorf("system report node002 does not say %q:\n%s", want, rep)
	}
	if code, body := s.get("/boot/52:54:00:70:00:02.ipxe"); code != 500 {
		t.Errorf("iPXE script of node002: %d %s, want a 500 (the image has no files)", code, body)
	}
	pxe := filepath.Join(cobblerFixture, "root/var/www/cobbler/distro_mirror/rocky9-x86_64/images/pxeboot")
	s.ok("image", "edit", "rocky9-x86_64", "--kernel", filepath.Join(pxe, "vmlinuz"), "--initrd", filepath.Join(pxe, "initrd.img"))
	if code, body := s.get("/boot/52:54:00:70:00:02.ipxe"); code != 200 || !strings.Contains(body, "/images/rocky9-x86_64/kernel") {
		t.Errorf("iPXE script of node002 once its image has files: %d\n%s", code, body)
	}
}
