package main

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
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

// The Cobbler fixture: 4 distros (one without its files), 6 profiles, 52
// systems (see cobbler/fixture_test.go for its conflicts).
const cobblerFixture = "../../cobbler/testdata/cobbler"

// The conflicts of the fixture against a registry whose legacy01 has
// mon002's IP.
var cobblerConflicts = []string{
	"distro ubuntu22-x86_64: kernel ../../cobbler/testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/vmlinuz: no such file",
	"distro ubuntu22-x86_64: initrd ../../cobbler/testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/initrd: no such file",
	`system cache004: interface eth0: mac "52:54:00:zz:00:04" is not a MAC address`,
	"ip 10.10.0.23 is claimed by systems web013 and web014",
	"mac 52:54:00:11:00:14 is claimed by systems db003 and web020",
	"ip 10.10.0.62 of system mon002 is already used by system legacy01 of the registry",
}

func TestImportCobbler(t *testing.T) {
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
		"plan: 3 images, 5 profiles, 2 templates, 2 subnets, 40 systems\n",
		"  + system web001 (10.10.0.11, 52:54:00:10:00:01,52:54:00:11:00:01, profile centos7-web, installed, netboot false, bmc ipmi 10.0.1.11)\n",
		"  + subnet cobbler-10-10-1-0-24 (10.10.1.0/24, gateway 10.10.1.1, dns 10.10.0.2)\n",
		"conflicts (6):\n", "left out (14):\n", "  system mon002: in a conflict\n",
		"  profile ubuntu22-app: its distro ubuntu22-x86_64 is not imported\n",
		"profile rocky9-db: template sample.ks needs review: uses Cheetah features",
		"system lb001.dc1.example.com: power type apc_snmp at 10.0.2.5 (provision speaks to BMCs by IPMI and Redfish only)",
		"mgmt_classes (profile centos7-base, profile centos7-web, system web003): configuration management classes",
		"with --skip-conflicts, would import: 52 added, 0 changed, 0 unchanged\n",
	}, cobblerConflicts...) {
		if !strings.Contains(r.Out, want) {
			t.Errorf("dry run: no %q in:\n%s", want, r.Out)
		}
	}
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: 6 conflicts, the import would write nothing (--skip-conflicts imports the rest):\n  ") {
		t.Errorf("dry run: exit %d, stderr %q", r.Code, r.Err)
	}
	if after := s.ok("export"); after != before {
		t.Fatalf("the dry run wrote:\n%s", after)
	}

	// Without --skip-conflicts: nothing written, every conflict listed.
	r = s.run(nil, imp...)
	if r.Code != 1 || !strings.HasPrefix(r.Err, "provision: 6 conflicts, nothing was written (--skip-conflicts imports the rest):\n") {
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
	for _, want := range []string{"uploaded 6 files", "imported: 52 added, 0 changed, 0 unchanged\n", "left out: 14 objects", "  system web013: in a conflict\n"} {
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
	if len(systems) != 41 || !names["lb001"] || names["web013"] || names["mon002"] || names["app001"] {
		t.Errorf("%d systems after the import, want legacy01 and 40 of Cobbler's: %v", len(systems), names)
	}
	for kind, want := range map[string]int{"image": 4, "profile": 6, "subnet": 3} {
		var items []json.RawMessage
		json.Unmarshal([]byte(s.ok(kind, "list", "-o", "json")), &items)
		if len(items) != want {
			t.Errorf("%d %ss, want %d", len(items), kind, want)
		}
	}
	checkCobblerSystems(t, s)
	if out := s.ok(append(imp, "--skip-conflicts")...); !strings.Contains(out, "imported: 0 added, 0 changed, 50 unchanged\n") {
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
