package registry

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/kickstart"
)

const (
	macA = "52:54:00:00:00:0a"
	macB = "52:54:00:00:00:0b"
	macC = "52:54:00:00:00:0c"
)

// bonded is web001 with eth0 and eth1 bonded (active-backup) as bond0,
// the primary, and VLAN 100 on it with an address on subnet svc.
func bonded() System {
	s := sys("web001", macA, "10.0.0.11")
	s.MACs = nil
	s.Interfaces = []Interface{
		{Name: "eth0", MAC: macA}, {Name: "eth1", MAC: macB},
		{Name: "bond0", BondMode: "active-backup", Members: []string{"eth0", "eth1"}, MTU: 9000, Primary: true},
		{Name: "bond0.100", VLANParent: "bond0", VLANID: 100, MTU: 9000, IP: "10.0.100.11"},
	}
	return s
}

// openIfaceTest is openTest with a second subnet, svc (10.0.100.0/24).
func openIfaceTest(t *testing.T) *Registry {
	r, _ := openTest(t)
	if _, err := r.AddSubnet(context.Background(), Subnet{Name: "svc", CIDR: "10.0.100.0/24", Gateway: "10.0.100.1"}); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInterfaceRules(t *testing.T) {
	with := func(f func(s *System)) System { s := bonded(); f(&s); return s }
	iface := func(s *System, name string) *Interface {
		for n := range s.Interfaces {
			if s.Interfaces[n].Name == name {
				return &s.Interfaces[n]
			}
		}
		panic(name)
	}
	add := func(i Interface) func(s *System) {
		return func(s *System) { s.Interfaces = append(s.Interfaces, i) }
	}
	tests := []struct {
		name string
		sys  System
		want string
	}{
		{"long name", with(func(s *System) { iface(s, "eth1").Name = "abcdefghijklmnop" }), `interface name "abcdefghijklmnop"`},
		{"dotdot name", with(add(Interface{Name: "..", MAC: macC})), `interface name ".."`},
		{"slash in name", with(add(Interface{Name: "a/b", MAC: macC})), `interface name "a/b"`},
		{"same name twice", with(add(Interface{Name: "eth0", MAC: macC})), "system web001: two interfaces are named eth0"},
		{"physical without mac", with(add(Interface{Name: "eth2"})), "system web001: interface eth2: a physical interface needs a mac"},
		{"bad mac", with(add(Interface{Name: "eth2", MAC: "zz"})), `system web001: interface eth2: mac "zz"`},
		{"mac twice", with(add(Interface{Name: "eth2", MAC: strings.ToUpper(macA)})), "system web001: interface eth2: mac " + macA + " is already interface eth0's"},
		{"bond with a mac", with(func(s *System) { iface(s, "bond0").MAC = macC }), "interface bond0: a bond has no mac of its own"},
		{"bond and vlan", with(func(s *System) { iface(s, "bond0").VLANID = 5 }), "interface bond0: a bond cannot be a vlan too"},
		{"unknown bond mode", with(func(s *System) { iface(s, "bond0").BondMode = "lacp" }), `interface bond0: bond mode "lacp": want one of balance-rr, active-backup`},
		{"bond without members", with(add(Interface{Name: "bond1", BondMode: "802.3ad"})), "interface bond1: a bond needs at least one member"},
		{"member missing", with(func(s *System) { iface(s, "bond0").Members = []string{"eth0", "eth7"} }), "interface bond0: bond member eth7 is not an interface of system web001"},
		{"member not physical", with(func(s *System) { iface(s, "bond0").Members = []string{"eth0", "bond0.100"} }), "interface bond0: bond member bond0.100 is a vlan"},
		{"member of two bonds", with(add(Interface{Name: "bond1", BondMode: "balance-rr", Members: []string{"eth1"}})), "interface bond1: bond member eth1 is already a member of bond0"},
		{"member is primary", with(func(s *System) { iface(s, "bond0").Primary = false; iface(s, "eth0").Primary = true }), "interface eth0 is primary (it carries the system's ip) and a member of bond bond0"},
		{"member with ip", with(func(s *System) { iface(s, "eth1").IP = "10.0.100.12" }), "interface eth1 is a member of bond bond0 and cannot carry ip 10.0.100.12"},
		{"member is vlan parent", with(func(s *System) { iface(s, "bond0.100").VLANParent = "eth1" }), "interface bond0.100: vlan parent eth1 is a member of bond bond0"},
		{"vlan parent missing", with(func(s *System) { iface(s, "bond0.100").VLANParent = "bond9" }), "interface bond0.100: vlan parent bond9 is not a physical interface or bond of system web001"},
		{"vlan on vlan", with(add(Interface{Name: "v7", VLANParent: "bond0.100", VLANID: 7})), "interface v7: vlan parent bond0.100 is not a physical interface or bond"},
		{"vlan id 0 with parent", with(func(s *System) { iface(s, "bond0.100").VLANID = 0 }), "interface bond0.100: vlan id 0: want 1 to 4094"},
		{"vlan id 4095", with(func(s *System) { iface(s, "bond0.100").VLANID = 4095 }), "interface bond0.100: vlan id 4095: want 1 to 4094"},
		{"vlan without parent", with(add(Interface{Name: "v7", VLANID: 7})), "interface v7: a vlan needs a parent interface"},
		{"same vlan twice", with(add(Interface{Name: "v100", VLANParent: "bond0", VLANID: 100})), "interface v100: vlan 100 on bond0 is already interface bond0.100"},
		{"mtu too small", with(func(s *System) { iface(s, "bond0").MTU = 67 }), "interface bond0: mtu 67: want 68 to 9216"},
		{"mtu too large", with(func(s *System) { iface(s, "bond0").MTU = 9217 }), "interface bond0: mtu 9217: want 68 to 9216"},
		{"vlan larger than its parent", with(func(s *System) { iface(s, "bond0").MTU = 1500 }), "interface bond0.100: mtu 9000 is more than its parent bond0's (1500)"},
		{"vlan larger than a default parent", with(func(s *System) { iface(s, "bond0").MTU = 0 }), "interface bond0.100: mtu 9000 is more than its parent bond0's (1500)"},
		{"two primaries", with(func(s *System) { iface(s, "bond0.100").IP = ""; iface(s, "bond0.100").Primary = true }), "system web001: 2 interfaces are primary"},
		{"ip on the primary", with(func(s *System) { iface(s, "bond0").IP = "10.0.100.12" }), "interface bond0: the primary interface carries the system's ip"},
		{"bad extra ip", with(func(s *System) { iface(s, "bond0.100").IP = "10.0.100.300" }), `interface bond0.100: ip "10.0.100.300": not an IPv4 address`},
		{"macs disagree", with(func(s *System) { s.MACs = []string{macA, macC} }), "system web001: macs " + macA + "," + macC + " are not its physical interfaces' (" + macA + "," + macB + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openIfaceTest(t)
			_, err := r.AddSystem(context.Background(), tt.sys)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q (invalid)", err, tt.want)
			}
		})
	}
}

func TestInterfacesStored(t *testing.T) {
	r := openIfaceTest(t)
	ctx := context.Background()
	in := bonded()
	in.Interfaces[0].MAC = "52-54-00-00-00-0A"
	got, err := r.AddSystem(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{macA, macB}, got.MACs); diff != "" {
		t.Errorf("MACs follow the physical interfaces (-want +got):\n%s", diff)
	}
	if p := got.PrimaryInterface(); p.Name != "bond0" {
		t.Errorf("primary %s, want bond0", p.Name)
	}
	want := bonded().Interfaces
	if diff := cmp.Diff(want, got.Interfaces); diff != "" {
		t.Errorf("interfaces (-want +got):\n%s", diff)
	}
	snap := r.Snapshot()
	if s, ok := snap.SystemByMAC(mustMAC(t, macB)); !ok || s.Name != "web001" {
		t.Errorf("a bond member's MAC finds its system: %v %v", s, ok)
	}
	if !snap.AddressInUse(mustAddr("10.0.100.11")) {
		t.Error("an extra address is in use")
	}
	in.Interfaces = []Interface{{Name: "eth0", MAC: macA, Primary: true}, {Name: "eth1", MAC: macB, IP: "10.0.100.12"}}
	in.MACs = nil
	if _, err = r.EditSystem(ctx, "web001", in); err != nil {
		t.Fatal(err)
	}
	if snap := r.Snapshot(); snap.AddressInUse(mustAddr("10.0.100.11")) || !snap.AddressInUse(mustAddr("10.0.100.12")) {
		t.Error("the extra addresses are re-indexed on an edit")
	}
}

func TestFirstInterfaceIsPrimary(t *testing.T) {
	r := openIfaceTest(t)
	s := sys("web001", macA, "10.0.0.11")
	s.MACs = nil
	s.Interfaces = []Interface{{Name: "eth0", MAC: macA}, {Name: "eth1", MAC: macB, IP: "10.0.100.12"}}
	got, err := r.AddSystem(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Interfaces[0].Primary || got.Interfaces[1].Primary {
		t.Errorf("with none marked, the first interface is primary: %+v", got.Interfaces)
	}
}

func TestImplicitInterfaces(t *testing.T) {
	s := System{Name: "web001", MACs: []string{macA, macB}}
	want := []Interface{{Name: "eth0", MAC: macA, Primary: true}, {Name: "eth1", MAC: macB}}
	if diff := cmp.Diff(want, s.Ifaces()); diff != "" {
		t.Errorf("Ifaces (-want +got):\n%s", diff)
	}
	if p := s.PrimaryInterface(); p.Name != "eth0" {
		t.Errorf("primary %s", p.Name)
	}
	// a system with MACs only stores no interfaces: nothing changes for it
	r, _ := openTest(t)
	got, err := r.AddSystem(context.Background(), sys("web001", macA, "10.0.0.11"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Interfaces != nil {
		t.Errorf("interfaces stored for a system with MACs only: %+v", got.Interfaces)
	}
}

func TestInterfaceAddressConflicts(t *testing.T) {
	ctx := context.Background()
	other := func(name, mac, ip, extra string) System {
		s := sys(name, mac, ip)
		s.MACs = nil
		s.Interfaces = []Interface{{Name: "eth0", MAC: mac}, {Name: "eth1", MAC: "52:54:00:00:01:" + mac[len(mac)-2:], IP: extra}}
		return s
	}
	tests := []struct {
		name string
		sys  System
		want string
		kind error
	}{
		{"extra is another's system ip", other("web002", "52:54:00:00:00:21", "10.0.0.12", "10.0.0.11"), "system web002: interface eth1: ip 10.0.0.11 is already used by system web001", ErrConflict},
		{"extra is another's extra", other("web002", "52:54:00:00:00:21", "10.0.0.12", "10.0.100.11"), "system web002: interface eth1: ip 10.0.100.11 is already used by system web001 (interface bond0.100)", ErrConflict},
		{"system ip is another's extra", sys("web002", "52:54:00:00:00:21", "10.0.100.11"), "ip 10.0.100.11 is already used by system web001 (interface bond0.100)", ErrConflict},
		{"extra is another's bmc", other("web002", "52:54:00:00:00:21", "10.0.0.12", "10.0.100.50"), "system web002: interface eth1: ip 10.0.100.50 is already the BMC address of system web001", ErrConflict},
		{"extra outside subnets", other("web002", "52:54:00:00:00:21", "10.0.0.12", "192.168.1.5"), "system web002: interface eth1: ip 192.168.1.5 is not inside any subnet", ErrInvalid},
		{"extra is a gateway", other("web002", "52:54:00:00:00:21", "10.0.0.12", "10.0.100.1"), "system web002: interface eth1: ip 10.0.100.1 is the gateway of subnet svc", ErrConflict},
		{"extra is own ip", other("web002", "52:54:00:00:00:21", "10.0.0.12", "10.0.0.12"), "system web002: interface eth1: ip 10.0.0.12 is already the system's ip", ErrConflict},
		{"mac of a bond member elsewhere", sys("web002", macB, "10.0.0.12"), "mac " + macB + " is already used by system web001", ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openIfaceTest(t)
			web1 := bonded()
			web1.BMC = &BMC{Address: "10.0.100.50"}
			if _, err := r.AddSystem(ctx, web1); err != nil {
				t.Fatal(err)
			}
			_, err := r.AddSystem(ctx, tt.sys)
			if err == nil || !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q (%v)", err, tt.want, tt.kind)
			}
		})
	}
}

func TestInterfaceRemoval(t *testing.T) {
	ctx := context.Background()
	drop := func(s System, name string) System {
		var keep []Interface
		for _, i := range s.Interfaces {
			if i.Name != name {
				keep = append(keep, i)
			}
		}
		s.Interfaces, s.MACs = keep, nil
		return s
	}
	tests := []struct {
		name, drop, want string
	}{
		{"the primary", "bond0", "system web001: interface bond0 carries the system's ip 10.0.0.11 (primary): make another interface primary before removing it"},
		{"a bond member", "eth1", "interface bond0: bond member eth1 is not an interface of system web001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openIfaceTest(t)
			if _, err := r.AddSystem(ctx, bonded()); err != nil {
				t.Fatal(err)
			}
			_, err := r.EditSystem(ctx, "web001", drop(bonded(), tt.drop))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("a vlan parent", func(t *testing.T) {
		r := openIfaceTest(t)
		s := sys("web001", macA, "10.0.0.11")
		s.MACs = nil
		s.Interfaces = []Interface{{Name: "eth0", MAC: macA}, {Name: "eth1", MAC: macB}, {Name: "eth1.5", VLANParent: "eth1", VLANID: 5}}
		if _, err := r.AddSystem(ctx, s); err != nil {
			t.Fatal(err)
		}
		_, err := r.EditSystem(ctx, "web001", drop(s, "eth1"))
		if err == nil || !strings.Contains(err.Error(), "interface eth1.5: vlan parent eth1 is not a physical interface or bond of system web001") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("the primary, another named", func(t *testing.T) {
		r := openIfaceTest(t)
		s := sys("web001", macA, "10.0.0.11")
		s.MACs = nil
		s.Interfaces = []Interface{{Name: "eth0", MAC: macA}, {Name: "eth1", MAC: macB}}
		if _, err := r.AddSystem(ctx, s); err != nil {
			t.Fatal(err)
		}
		next := drop(s, "eth0")
		next.Interfaces[0].Primary = true
		got, err := r.EditSystem(ctx, "web001", next)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{macB}, got.MACs); diff != "" {
			t.Errorf("MACs (-want +got):\n%s", diff)
		}
	})
}

func TestSubnetKeepsExtraAddresses(t *testing.T) {
	r := openIfaceTest(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, bonded()); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveSubnet(ctx, "svc"); err == nil || !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "subnet svc is in use by system web001") {
		t.Fatalf("removing the subnet of an extra address: %v", err)
	}
	_, err := r.EditSubnet(ctx, "svc", Subnet{Name: "svc", CIDR: "10.0.100.0/24", Gateway: "10.0.100.11"})
	if err == nil || !strings.Contains(err.Error(), "subnet svc: ip 10.0.100.11 of system web001 would be the gateway") {
		t.Fatalf("a gateway on an extra address: %v", err)
	}
}

func TestInterfacesExportImport(t *testing.T) {
	r := openIfaceTest(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, bonded()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddSystem(ctx, sys("web002", macC, "10.0.0.12")); err != nil {
		t.Fatal(err)
	}
	doc, err := r.Snapshot().Export(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bond_mode: active-backup", "vlan_parent: bond0", "vlan_id: 100", "mtu: 9000", "ip: 10.0.100.11"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("export lacks %q:\n%s", want, doc)
		}
	}
	if strings.Count(string(doc), "interfaces:") != 1 {
		t.Errorf("only web001 has interfaces in the export:\n%s", doc)
	}
	r2 := openIfaceTest(t)
	if _, err := r2.Import(ctx, doc, false); err != nil {
		t.Fatal(err)
	}
	doc2, err := r2.Snapshot().Export(false)
	if err != nil {
		t.Fatal(err)
	}
	// IDs differ between registries; everything else round-trips
	strip := func(b []byte) string {
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.Contains(l, " id: ") && !strings.Contains(l, "status_since:") && !strings.Contains(l, "deadline:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if diff := cmp.Diff(strip(doc), strip(doc2)); diff != "" {
		t.Errorf("export after import (-first +second):\n%s", diff)
	}
	rep, err := r2.Import(ctx, doc2, true)
	if err != nil || len(rep.Changed) != 0 {
		t.Errorf("importing the same again changes %v (%v)", rep, err)
	}
}

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	hw, err := ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return hw
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTemplateDataNetwork(t *testing.T) {
	r := openIfaceTest(t)
	ctx := context.Background()
	if _, err := r.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250", DNSServers: []string{"10.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	web1, err := r.AddSystem(ctx, bonded())
	if err != nil {
		t.Fatal(err)
	}
	web2, err := r.AddSystem(ctx, sys("web002", macC, "10.0.0.12"))
	if err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	d := snap.TemplateData(web1, kickstart.URLs{})
	want := []kickstart.Interface{
		{Name: "eth0", Kind: "physical", MAC: macA}, {Name: "eth1", Kind: "physical", MAC: macB},
		{Name: "bond0", Kind: "bond", BondMode: "active-backup", Members: []string{"eth0", "eth1"}, MTU: 9000, Primary: true, Address: "10.0.0.11/24"},
		{Name: "bond0.100", Kind: "vlan", VLANParent: "bond0", VLANID: 100, MTU: 9000, Address: "10.0.100.11/24"},
	}
	if diff := cmp.Diff(want, d.Interfaces); diff != "" {
		t.Errorf("Interfaces (-want +got):\n%s", diff)
	}
	files := map[string]string{}
	for _, f := range d.Networkd {
		files[f.Name] = f.Content
	}
	for name, lines := range map[string][]string{
		"10-bond0.netdev":      {"Kind=bond", "Mode=active-backup"},
		"10-bond0.100.netdev":  {"Kind=vlan", "Id=100"},
		"20-bond0.network":     {"Address=10.0.0.11/24", "Gateway=10.0.0.1", "DNS=10.0.0.2", "VLAN=bond0.100"},
		"20-bond0.100.network": {"Address=10.0.100.11/24", "MTUBytes=9000"},
		"20-eth1.network":      {"PermanentMACAddress=" + macB, "Bond=bond0"},
	} {
		for _, l := range lines {
			if !strings.Contains(files[name], l+"\n") {
				t.Errorf("%s lacks %q:\n%s", name, l, files[name])
			}
		}
	}
	if strings.Contains(files["20-bond0.100.network"], "Gateway=") {
		t.Errorf("an extra address has no gateway:\n%s", files["20-bond0.100.network"])
	}
	d = snap.TemplateData(web2, kickstart.URLs{})
	if len(d.Networkd) != 1 || d.Networkd[0].Name != "20-eth0.network" || !strings.Contains(d.Networkd[0].Content, "Address=10.0.0.12/24\n") {
		t.Errorf("a system with one MAC: %+v", d.Networkd)
	}
}
