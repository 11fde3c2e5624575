package cobbler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// small is a Collection of one distro (with files in dir), one profile p
// and the given systems.
func small(t *testing.T, dir string, systems ...map[string]any) *Collection {
	t.Helper()
	for _, f := range []string{"vmlinuz", "initrd.img"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := &Collection{Dir: dir, Others: map[string]int{}}
	c.Distros = append(c.Distros, decodeDistro(map[string]any{"name": "d", "kernel": filepath.Join(dir, "vmlinuz"), "initrd": filepath.Join(dir, "initrd.img")}, "d.json"))
	c.Profiles = append(c.Profiles, decodeProfile(map[string]any{"name": "p", "distro": "d", "autoinstall": ""}, "p.json"))
	for _, s := range systems {
		c.Systems = append(c.Systems, decodeSystem(s, "s.json"))
	}
	return c
}

// sys is a system of profile p with one interface eth0 on 10.0.0.0/24.
func sys(name, mac, ip string, more ...any) map[string]any {
	eth0 := map[string]any{"mac_address": mac, "ip_address": ip, "netmask": "255.255.255.0"}
	s := map[string]any{"name": name, "profile": "p", "interfaces": map[string]any{"eth0": eth0}}
	for i := 0; i+1 < len(more); i += 2 {
		k := more[i].(string)
		if ik, ok := strings.CutPrefix(k, "eth0."); ok {
			eth0[ik] = more[i+1]
		} else {
			s[k] = more[i+1]
		}
	}
	return s
}

func regSystem(name, mac, ip string) registry.System {
	return registry.System{Name: name, Hostname: name + ".internal", MACs: []string{mac}, IP: ip, Profile: "other"}
}

// Every kind of conflict, each naming its objects.
func TestPlanConflicts(t *testing.T) {
	ok1 := sys("web001", "52:54:00:00:00:01", "10.0.0.11")
	for _, c := range []struct {
		name    string
		systems []map[string]any
		reg     registry.Document
		edit    func(c *Collection)
		want    string
		objects []string
	}{
		{name: "invalid mac", systems: []map[string]any{sys("web002", "52:54:00:00:00:zz", "10.0.0.12")},
			want: `system web002: interface eth0: mac "52:54:00:00:00:zz" is not a MAC address`, objects: []string{"system web002"}},
		{name: "invalid ip", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.300")},
			want: `system web002: interface eth0: ip "10.0.0.300" is not an IPv4 address`, objects: []string{"system web002"}},
		{name: "no ip", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "")},
			want: "system web002: no interface has an IPv4 address (provision gives every system one)"},
		{name: "no mac", systems: []map[string]any{sys("web002", "", "10.0.0.12")},
			want: "system web002: no interface has a MAC address"},
		{name: "duplicate ip", systems: []map[string]any{ok1, sys("web002", "52:54:00:00:00:02", "10.0.0.11")},
			want: "ip 10.0.0.11 is claimed by systems web001 and web002", objects: []string{"system web001", "system web002"}},
		{name: "duplicate mac", systems: []map[string]any{ok1, sys("web002", "52-54-00-00-00-01", "10.0.0.12")},
			want: "mac 52:54:00:00:00:01 is claimed by systems web001 and web002", objects: []string{"system web001", "system web002"}},
		{name: "duplicate hostname", systems: []map[string]any{sys("web001", "52:54:00:00:00:01", "10.0.0.11", "hostname", "www.example.com"),
			sys("web002", "52:54:00:00:00:02", "10.0.0.12", "hostname", "WWW.example.com")},
			want: "hostname www.example.com is claimed by systems web001 and web002"},
		{name: "duplicate name", systems: []map[string]any{ok1, sys("web001.example.com", "52:54:00:00:00:02", "10.0.0.12")},
			want: "name web001 is claimed by systems web001 and web001.example.com"},
		{name: "duplicate bmc", systems: []map[string]any{sys("web001", "52:54:00:00:00:01", "10.0.0.11", "power_type", "ipmilan", "power_address", "10.0.1.1"),
			sys("web002", "52:54:00:00:00:02", "10.0.0.12", "power_type", "redfish", "power_address", "10.0.1.1")},
			want: "bmc address 10.0.1.1 is claimed by systems web001 and web002"},
		{name: "bmc is an ip", systems: []map[string]any{ok1, sys("web002", "52:54:00:00:00:02", "10.0.0.12", "power_type", "ipmilanplus", "power_address", "10.0.0.11")},
			want: "bmc address 10.0.0.11 of system web002 is the ip of system web001", objects: []string{"system web002", "system web001"}},
		{name: "bad name", systems: []map[string]any{sys("web_001", "52:54:00:00:00:01", "10.0.0.11")},
			want: `system web_001: system name "web_001": must be a DNS label`},
		{name: "cobbler image", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.12", "profile", "", "image", "win2019")},
			want: "system web002 boots Cobbler image win2019, which provision cannot import (only distros)"},
		{name: "no such profile", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.12", "profile", "nosuch")},
			want: "system web002: profile nosuch is neither in Cobbler's data nor in the registry"},
		{name: "no netmask", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.12", "eth0.netmask", "")},
			want: "ip 10.0.0.12 of system web002 is in no subnet of the registry, and interface eth0 has no netmask to make one"},
		{name: "overlaps a subnet", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.200")},
			reg:  registry.Document{Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/25"}}},
			want: "ip 10.0.0.200 of system web002: its network 10.0.0.0/24 overlaps subnet lan (10.0.0.0/25)"},
		{name: "the gateway", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.1")},
			reg:  registry.Document{Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"}}},
			want: "ip 10.0.0.1 of system web002 is the gateway of subnet lan"},
		{name: "the pool", systems: []map[string]any{sys("web002", "52:54:00:00:00:02", "10.0.0.210")},
			reg:  registry.Document{Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24", Pool: "10.0.0.200-10.0.0.250"}}},
			want: "ip 10.0.0.210 of system web002 is inside the dynamic pool 10.0.0.200-10.0.0.250 of subnet lan"},
		{name: "registry name", systems: []map[string]any{ok1}, reg: registry.Document{Systems: []registry.System{regSystem("web001", "52:54:00:00:00:99", "10.0.0.99")}},
			want: "system web001 is already in the registry, with mac 52:54:00:00:00:99 and ip 10.0.0.99 (system web001 has 52:54:00:00:00:01 and 10.0.0.11)"},
		{name: "registry ip", systems: []map[string]any{ok1}, reg: registry.Document{Systems: []registry.System{regSystem("legacy01", "52:54:00:00:00:99", "10.0.0.11")}},
			want: "ip 10.0.0.11 of system web001 is already used by system legacy01 of the registry"},
		{name: "registry mac", systems: []map[string]any{ok1}, reg: registry.Document{Systems: []registry.System{regSystem("legacy01", "52:54:00:00:00:01", "10.0.0.99")}},
			want: "mac 52:54:00:00:00:01 of system web001 is already used by system legacy01 of the registry"},
		{name: "registry hostname", systems: []map[string]any{sys("web001", "52:54:00:00:00:01", "10.0.0.11", "hostname", "legacy01.internal")},
			reg:  registry.Document{Systems: []registry.System{regSystem("legacy01", "52:54:00:00:00:99", "10.0.0.99")}},
			want: "hostname legacy01.internal of system web001 is already used by system legacy01 of the registry"},
		{name: "registry bmc", systems: []map[string]any{sys("web001", "52:54:00:00:00:01", "10.0.0.11", "power_type", "ipmilan", "power_address", "10.0.1.9")},
			reg: registry.Document{Systems: []registry.System{func() registry.System {
				s := regSystem("legacy01", "52:54:00:00:00:99", "10.0.0.99")
				s.BMC = &registry.BMC{Address: "10.0.1.9"}
				return s
			}()}},
			want: "bmc address 10.0.1.9 of system web001 is already the BMC address of system legacy01 of the registry"},
		{name: "registry image", reg: registry.Document{Images: []registry.Image{{Name: "d", Kind: "install", Files: map[string]registry.File{"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}}}},
			want: "image d (from distro d) is already in the registry, with other files", objects: []string{"distro d"}},
		{name: "registry profile", reg: registry.Document{Profiles: []registry.Profile{{Name: "p", Image: "other"}}},
			want: "profile p (from profile p) is already in the registry, with image other", objects: []string{"profile p"}},
		{name: "registry template", reg: registry.Document{Templates: []kickstart.Template{{Name: "web.ks", Kind: "kickstart", Text: "other"}}},
			edit: func(c *Collection) {
				c.Profiles[0].Autoinstall = "web.ks"
				os.MkdirAll(filepath.Join(c.Base, "templates"), 0o755)
				os.WriteFile(filepath.Join(c.Base, "templates", "web.ks"), []byte("install\n"), 0o644)
			},
			want: "template web.ks (", objects: []string{"template web.ks"}},
		{name: "registry image of another kind", reg: registry.Document{Images: []registry.Image{{Name: "d", Kind: "diskless"}}},
			want: "image d (from distro d) is already in the registry, a diskless image", objects: []string{"distro d"}},
		{name: "kernel no regular file", edit: func(c *Collection) { c.Distros[0].Kernel = c.Dir },
			want: "distro d: kernel /", objects: []string{"distro d"}},
		{name: "one name for two distros", edit: func(c *Collection) {
			c.Distros[0].Name = "c7:x"
			c.Profiles[0].Distro = "c7:x"
			c.Distros = append(c.Distros, c.Distros[0])
			c.Distros[1].Name = "c7+x"
		}, want: "distro c7:x and distro c7+x would both be image c7-x", objects: []string{"distro c7:x", "distro c7+x"}},
		{name: "parents loop", edit: func(c *Collection) {
			c.Profiles = append(c.Profiles, decodeProfile(map[string]any{"name": "a", "parent": "b"}, "a.json"), decodeProfile(map[string]any{"name": "b", "parent": "a"}, "b.json"))
		}, want: "profile a: its parents loop: a → b → a"},
		{name: "no such parent", edit: func(c *Collection) {
			c.Profiles = append(c.Profiles, decodeProfile(map[string]any{"name": "a", "parent": "nosuch"}, "a.json"))
		}, want: "profile a: parent profile nosuch does not exist", objects: []string{"profile a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			coll := small(t, dir, c.systems...)
			coll.Base = dir
			if c.edit != nil {
				c.edit(coll)
			}
			p, err := Plan(coll, &c.reg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(p.Conflicts, func(x Conflict) bool { return strings.HasPrefix(x.Msg, c.want) })
			if i < 0 {
				t.Fatalf("no conflict %q in %q", c.want, p.Conflicts)
			}
			if c.objects != nil && !slices.Equal(p.Conflicts[i].Objects, c.objects) {
				t.Errorf("conflict %q names %q, want %q", c.want, p.Conflicts[i].Objects, c.objects)
			}
			for _, o := range p.Conflicts[i].Objects {
				if !slices.ContainsFunc(p.Skipped, func(s Skip) bool { return s.Object == o }) {
					t.Errorf("%s is in a conflict but not left out: %v", o, p.Skipped)
				}
			}
			for _, s := range p.Doc.Systems {
				if slices.Contains(p.Conflicts[i].Objects, "system "+s.Name) {
					t.Errorf("system %s is in a conflict, and in the document", s.Name)
				}
			}
		})
	}
}

// A system of the registry with the same name, MACs and IP is the same
// machine: it is updated and keeps its state.
func TestPlanSameMachine(t *testing.T) {
	old := regSystem("web001", "52:54:00:00:00:01", "10.0.0.11")
	old.ID, old.Status, old.StatusSince = "abc", registry.StateInstalled, "2026-01-01T00:00:00Z"
	c := small(t, t.TempDir(), sys("web001", "52:54:00:00:00:01", "10.0.0.11", "netboot_enabled", true))
	p, err := Plan(c, &registry.Document{Systems: []registry.System{old}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := systemOf(p, "web001")
	if len(p.Conflicts) != 0 || !ok || got.ID != "abc" || got.Status != registry.StateInstalled || got.Netboot || !slices.Contains(p.Existing, "system web001") {
		t.Errorf("conflicts %q, system %+v, existing %v", p.Conflicts, got, p.Existing)
	}
}

// Power types: IPMI's and Redfish's carried over, others listed.
func TestPlanBMC(t *testing.T) {
	c := small(t, t.TempDir(),
		sys("a", "52:54:00:00:00:01", "10.0.0.11", "power_type", "ipmilanplus", "power_address", "10.0.1.11", "power_user", "u", "power_pass", "pw"),
		sys("b", "52:54:00:00:00:02", "10.0.0.12", "power_type", "redfish", "power_address", "10.0.1.12"),
		sys("c", "52:54:00:00:00:03", "10.0.0.13", "power_type", "wti", "power_address", "10.0.1.13"),
		sys("d", "52:54:00:00:00:04", "10.0.0.14", "power_type", "ipmilan", "power_address", "bmc-d.example.com"),
		sys("e", "52:54:00:00:00:05", "10.0.0.15", "power_type", "ipmitool", "power_address", "10.0.1.15", "power_pass", strings.Repeat("x", 21)),
	)
	p, err := Plan(c, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "ipmi 10.0.1.11 u pw", "b": "redfish 10.0.1.12  ", "c": "", "d": "", "e": ""}
	for name, w := range want {
		s, _ := systemOf(p, name)
		got := ""
		if s.BMC != nil {
			got = s.BMC.Provider + " " + s.BMC.Address + " " + s.BMC.User + " " + string(s.BMC.Password)
		}
		if got != w {
			t.Errorf("system %s: bmc %q, want %q", name, got, w)
		}
	}
	for _, l := range []string{
		"system c: power type wti at 10.0.1.13 (provision speaks to BMCs by IPMI and Redfish only)",
		"system d: power address bmc-d.example.com (a BMC address is an IPv4 address)",
		"system e: its BMC (the password is 21 bytes, IPMI takes 20 at most)",
	} {
		if !slices.Contains(p.Lost, l) {
			t.Errorf("lost lacks %q: %q", l, p.Lost)
		}
	}
}
