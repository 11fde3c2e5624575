package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/api"
)

// Issue 28, item 3: a system's interfaces through the CLI, the API and a
// real appliance; export and import keep them.
func TestCLISystemInterfaces(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	const macA, macB = "52:54:00:00:00:0a", "52:54:00:00:00:0b"
	s.ok("system", "add", "web001", "--mac", macA, "--mac", "52-54-00-00-00-0B", "--ip", "10.0.0.11", "--profile", "centos-web")
	// a system with MACs only: eth0 (primary), eth1
	list := func() []api.InterfaceView {
		var v []api.InterfaceView
		if err := json.Unmarshal([]byte(s.ok("system", "interface", "list", "web001", "--json")), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	names := func() string {
		var n []string
		for _, v := range list() {
			n = append(n, v.Name+"/"+v.Kind+"/"+v.Address)
		}
		return strings.Join(n, " ")
	}
	if got, want := names(), "eth0/physical/10.0.0.11 eth1/physical/"; got != want {
		t.Errorf("interfaces of a system with MACs only: %q, want %q", got, want)
	}
	if out := s.ok("system", "show", "web001", "--json"); strings.Contains(out, "interfaces") {
		t.Errorf("a system with MACs only stores no interfaces:\n%s", out)
	}

	s.fails("system web001: interface eth0 is primary (it carries the system's ip) and a member of bond bond0: make bond0 primary",
		"system", "interface", "add", "web001", "bond0", "--bond-mode", "active-backup", "--members", "eth0,eth1")
	if out := s.ok("system", "interface", "add", "web001", "bond0", "--bond-mode", "active-backup", "--members", "eth0,eth1", "--primary", "--mtu", "9000"); out != "system web001: interface bond0 added (bond)\n" {
		t.Errorf("add bond0: %q", out)
	}
	s.ok("system", "interface", "add", "web001", "bond0.100", "--vlan-parent", "bond0", "--vlan-id", "100", "--mtu", "9000", "--ip", "10.0.1.11")
	if got, want := names(), "eth0/physical/ eth1/physical/ bond0/bond/10.0.0.11 bond0.100/vlan/10.0.1.11"; got != want {
		t.Errorf("interfaces: %q, want %q", got, want)
	}
	v := list()[3]
	if v.VLANParent != "bond0" || v.VLANID != 100 || v.MTU != 9000 || v.Primary {
		t.Errorf("bond0.100: %+v", v)
	}
	table := s.ok("system", "interface", "list", "web001")
	for _, want := range []string{"bond0      bond      active-backup eth0,eth1", "bond0.100  vlan      bond0 id 100", "eth1       physical  " + macB} {
		if !strings.Contains(table, want) {
			t.Errorf("interface list lacks %q:\n%s", want, table)
		}
	}
	report := s.ok("system", "report", "web001")
	for _, want := range []string{"interfaces:\n  NAME", "  bond0.100  vlan      bond0 id 100             9000  10.0.1.11  no\n", "10.0.0.11  yes"} {
		if !strings.Contains(report, want) {
			t.Errorf("system report lacks %q:\n%s", want, report)
		}
	}

	// refusals, each naming the system and the interface
	s.fails("system web001 already has an interface eth1", "system", "interface", "add", "web001", "eth1", "--mac", "52:54:00:00:00:0c")
	s.fails("interface eth2: mac "+macA+" is already interface eth0's", "system", "interface", "add", "web001", "eth2", "--mac", macA)
	s.fails("interface bond1: bond member eth1 is already a member of bond0", "system", "interface", "add", "web001", "bond1", "--bond-mode", "802.3ad", "--members", "eth1")
	s.fails(`interface bond1: bond mode "lacp": want one of`, "system", "interface", "add", "web001", "bond1", "--bond-mode", "lacp", "--members", "eth1")
	s.fails("interface v5: vlan id 4095: want 1 to 4094", "system", "interface", "add", "web001", "v5", "--vlan-parent", "bond0", "--vlan-id", "4095")
	s.fails("interface v6: mtu 9216 is more than its parent bond0's (9000)", "system", "interface", "add", "web001", "v6", "--vlan-parent", "bond0", "--vlan-id", "6", "--mtu", "9216")
	s.fails("system web001: interface bond0 carries the system's ip 10.0.0.11 (primary)", "system", "interface", "remove", "web001", "bond0")
	s.fails("interface bond0: bond member eth1 is not an interface of system web001", "system", "interface", "remove", "web001", "eth1")
	s.fails("system web001 has no interface eth9", "system", "interface", "remove", "web001", "eth9")
	s.fails("with interfaces, change MACs with `system interface add/remove`", "system", "edit", "web001", "--mac", "52:54:00:00:00:0c")
	s.ok("system", "add", "web002", "--mac", "52:54:00:00:00:21", "--ip", "10.0.0.12", "--profile", "centos-web")
	s.fails("system web002: interface eth1: ip 10.0.1.11 is already used by system web001 (interface bond0.100)",
		"system", "interface", "add", "web002", "eth1", "--mac", "52:54:00:00:00:22", "--ip", "10.0.1.11")
	s.fails("mac "+macB+" is already used by system web001", "system", "interface", "add", "web002", "eth1", "--mac", macB)
	for _, bad := range [][]string{
		{"system", "interface", "add", "web001", "x", "--mac", macA, "--bond-mode", "balance-rr", "--members", "eth0"},
		{"system", "interface", "add", "web001", "x"},
		{"system", "interface", "add", "web001", "x", "--bond-mode", "balance-rr"},
		{"system", "interface", "add", "web001", "x", "--vlan-parent", "bond0"},
		{"system", "interface", "add", "web001", "a/b", "--mac", "52:54:00:00:00:0c"},
	} {
		if r := s.run(nil, bad...); r.Code != 2 {
			t.Errorf("provision %s: exit %d (%q), want 2", strings.Join(bad, " "), r.Code, r.Err)
		}
	}

	// two edits at once: the serial check keeps both
	var wg sync.WaitGroup
	for _, n := range []string{"eth2", "eth3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mac := "52:54:00:00:00:e" + n[3:]
			if r := s.run(nil, "system", "interface", "add", "web001", n, "--mac", mac); r.Code != 0 {
				t.Errorf("add %s: %+v", n, r)
			}
		}()
	}
	wg.Wait()
	var sys struct{ MACs []string }
	json.Unmarshal([]byte(s.ok("system", "show", "web001", "--json")), &sys)
	if len(sys.MACs) != 4 {
		t.Errorf("after two concurrent adds the MACs are %v, want 4", sys.MACs)
	}
	if out := s.ok("system", "interface", "remove", "web001", "eth3"); out != "system web001: interface eth3 removed\n" {
		t.Errorf("remove: %q", out)
	}

	// export and import into a fresh appliance
	doc := filepath.Join(t.TempDir(), "registry.yaml")
	s.ok("export", "-o", doc)
	y, _ := os.ReadFile(doc)
	if !strings.Contains(string(y), "bond_mode: active-backup") {
		t.Fatalf("the export lacks the bond:\n%s", y)
	}
	s2 := startServer(t, t.TempDir(), "--zone", "dsas")
	s2.ok("import", doc)
	a, b := s.ok("system", "interface", "list", "web001", "--json"), s2.ok("system", "interface", "list", "web001", "--json")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("interfaces after export and import (-before +after):\n%s", diff)
	}
}
