package cobbler

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

func planFixture(t *testing.T, existing *registry.Document) *ImportPlan {
	t.Helper()
	c, err := Read(fixture)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Plan(c, existing, Options{Root: fixture + "/root"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cobbler -update writes it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got; go test ./cobbler -update rewrites it):\n%s", path, d)
	}
}

// The fixture's plan, as printed and as the document imported.
func TestPlanGolden(t *testing.T) {
	p := planFixture(t, nil)
	var buf bytes.Buffer
	p.Write(&buf, true)
	golden(t, "plan.golden", buf.Bytes())
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.yaml.golden", y)
}

func profileOf(p *ImportPlan, name string) registry.Profile {
	i := slices.IndexFunc(p.Doc.Profiles, func(x registry.Profile) bool { return x.Name == name })
	if i < 0 {
		return registry.Profile{}
	}
	return p.Doc.Profiles[i]
}

func systemOf(p *ImportPlan, name string) (registry.System, bool) {
	i := slices.IndexFunc(p.Doc.Systems, func(x registry.System) bool { return x.Name == name })
	if i < 0 {
		return registry.System{}, false
	}
	return p.Doc.Systems[i], true
}

// Profiles: parents, <<inherit>>, blended kernel options and settings.
func TestPlanProfiles(t *testing.T) {
	p := planFixture(t, nil)
	for _, want := range []registry.Profile{
		// centos7-web: its parent's distro and template (<<inherit>>),
		// the parent's options with its own over them (!biosdevname).
		{Name: "centos7-web", Image: "centos7-x86_64", KernelArgs: "console=tty0 console=ttyS0,115200n8 quiet", Kickstart: "centos7-base.ks",
			Settings: map[string]string{"ntp_server": "10.10.0.5", "role": "web"}, OnFailure: "keep"},
		{Name: "centos7-base", Image: "centos7-x86_64", KernelArgs: "biosdevname=0 console=ttyS0,115200n8", Kickstart: "centos7-base.ks",
			Settings: map[string]string{"ntp_server": "10.10.0.5"}, OnFailure: "keep"},
		// rocky9-db: a Cheetah template, so none; the distro's options.
		{Name: "rocky9-db", Image: "rocky9-x86_64", KernelArgs: "biosdevname=0 console=ttyS0,115200n8 net.ifnames=0", Settings: map[string]string{"role": "db"}},
		// debian12-lb: options as a string, a preseed.
		{Name: "debian12-lb", Image: "debian12-amd64", KernelArgs: "console=ttyS0,115200 fb=false netcfg/choose_interface=auto vga=normal", Kickstart: "debian12-lb.seed",
			Settings: map[string]string{"role": "lb"}, OnFailure: "keep"},
	} {
		if d := cmp.Diff(want, profileOf(p, want.Name)); d != "" {
			t.Errorf("profile %s (-want +got):\n%s", want.Name, d)
		}
	}
	kinds := map[string]string{}
	for _, tm := range p.Doc.Templates {
		kinds[tm.Name] = tm.Kind
	}
	if d := cmp.Diff(map[string]string{"centos7-base.ks": "kickstart", "debian12-lb.seed": "preseed"}, kinds); d != "" {
		t.Errorf("templates: %s", d)
	}
	if !slices.ContainsFunc(p.Review, func(s string) bool {
		return strings.HasPrefix(s, "profile rocky9-db: template sample.ks needs review: uses Cheetah features ($SNIPPET(), $getVar(), #if") && strings.Contains(s, "imported without a template")
	}) {
		t.Errorf("review does not say rocky9-db's template uses Cheetah: %q", p.Review)
	}
	for _, want := range []string{
		"profile centos7-base: autoinstall_meta root_password_hash (it looks like a secret",
		"profile centos7-base: autoinstall_meta tree=http://@@http_server@@/cblr/links/centos7-x86_64 (a Cobbler @@variable@@)",
		"profile rocky9-rescue: kernel option inst.ks=",
	} {
		if !slices.ContainsFunc(p.Lost, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("lost lacks %q", want)
		}
	}
}

// Systems: MACs, IP, host name, netboot and state, BMC.
func TestPlanSystems(t *testing.T) {
	p := planFixture(t, nil)
	bmc := func(addr, user, pw, provider string) *registry.BMC {
		return &registry.BMC{Address: addr, User: user, Password: registry.Secret(pw), Provider: provider}
	}
	for _, want := range []registry.System{
		{Name: "web001", Hostname: "web001.dc1.example.com", MACs: []string{"52:54:00:10:00:01", "52:54:00:11:00:01"}, IP: "10.10.0.11",
			Profile: "centos7-web", KernelArgs: "nomodeset", Status: "installed", BMC: bmc("10.0.1.11", "admin", "bmc-web001", "ipmi")},
		{Name: "web021", Hostname: "web021.dc1.example.com", MACs: []string{"52:54:00:10:00:15", "52:54:00:11:00:15"}, IP: "10.10.0.31",
			Profile: "centos7-web", Netboot: true, Status: "pending", BMC: bmc("10.0.1.31", "admin", "bmc-web021", "ipmi")},
		// A short hostname: the management interface's DNS name.
		{Name: "db001", Hostname: "db001.dc1.example.com", MACs: []string{"52:54:00:20:00:01", "52:54:00:21:00:01"}, IP: "10.10.1.11",
			Profile: "rocky9-db", Status: "diskless", Settings: map[string]string{"mysql.server_id": "1"}, BMC: bmc("10.0.1.101", "root", "calvin-db001", "redfish")},
		// A bond: its IP, its slaves' MACs; a PDU is no BMC; named by its FQDN.
		{Name: "lb001", Hostname: "lb001.dc1.example.com", MACs: []string{"52:54:00:30:00:01", "52:54:00:30:01:01"}, IP: "10.10.2.11",
			Profile: "debian12-lb", Status: "installed"},
		{Name: "cache001", Hostname: "cache001.dc1.example.com", MACs: []string{"52:54:00:60:00:01"}, IP: "10.10.1.51",
			Profile: "rocky9-rescue", Netboot: true, Status: "diskless"},
	} {
		got, _ := systemOf(p, want.Name)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("system %s (-want +got):\n%s", want.Name, d)
		}
	}
	if p.Renamed["system lb001.dc1.example.com"] != "lb001" {
		t.Errorf("renamed: %v", p.Renamed)
	}
	for _, want := range []string{
		"system lb001.dc1.example.com: power type apc_snmp at 10.0.2.5 (provision speaks to BMCs by IPMI and Redfish only)",
		"system web001: interface eth1 ip 10.20.0.11 (provision keeps one IP per system: eth0's)",
	} {
		if !slices.Contains(p.Lost, want) {
			t.Errorf("lost lacks %q", want)
		}
	}
}

// The fixture's conflicts, each naming its objects, and what they leave out.
func TestPlanFixtureConflicts(t *testing.T) {
	p := planFixture(t, nil)
	var got []Conflict
	got = append(got, p.Conflicts...)
	want := []Conflict{
		{[]string{"system cache004"}, `system cache004: interface eth0: mac "52:54:00:zz:00:04" is not a MAC address`},
		{[]string{"system web013", "system web014"}, "ip 10.10.0.23 is claimed by systems web013 and web014"},
		{[]string{"system db003", "system web020"}, "mac 52:54:00:11:00:14 is claimed by systems db003 and web020"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("conflicts (-want +got):\n%s", d)
	}
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[s.Object] = s.Why
	}
	for obj, why := range map[string]string{"system web013": "in a conflict", "system db003": "in a conflict"} {
		if skipped[obj] != why {
			t.Errorf("skipped %s: %q, want %q", obj, skipped[obj], why)
		}
	}
	if len(p.Skipped) != 5 || len(p.Doc.Systems) != 52-5 {
		t.Errorf("%d skipped, %d systems; want 5 and 47", len(p.Skipped), len(p.Doc.Systems))
	}
	// ubuntu22-x86_64 has no files: an image without them, its profile
	// and systems imported.
	if _, ok := systemOf(p, "app001"); !ok || profileOf(p, "ubuntu22-app").Image != "ubuntu22-x86_64" {
		t.Errorf("app001 and its profile ubuntu22-app are not imported")
	}
	wantNoFiles := []string{"image ubuntu22-x86_64: registered without files (kernel testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/vmlinuz: no such file; " +
		"initrd testdata/cobbler/root/var/www/cobbler/distro_mirror/ubuntu22-x86_64/casper/initrd: no such file): " +
		"upload them with `provision image edit ubuntu22-x86_64 --kernel FILE --initrd FILE`"}
	if d := cmp.Diff(wantNoFiles, p.WithoutFiles); d != "" {
		t.Errorf("without files (-want +got):\n%s", d)
	}
}

// Subnets from the interfaces' netmasks, gateways and name servers,
// unless the registry has one holding the IP.
func TestPlanSubnets(t *testing.T) {
	p := planFixture(t, nil)
	want := []registry.Subnet{
		// app001 makes it (the first of its systems), with its profile's name server.
		{Name: "cobbler-10-10-0-0-24", CIDR: "10.10.0.0/24", Gateway: "10.10.0.1", DNSServers: []string{"10.10.0.2"}},
		{Name: "cobbler-10-10-1-0-24", CIDR: "10.10.1.0/24", Gateway: "10.10.1.1", DNSServers: []string{"10.10.0.2"}},
		{Name: "cobbler-10-10-2-0-24", CIDR: "10.10.2.0/24", Gateway: "10.10.2.1", DNSServers: []string{"10.10.0.2", "10.10.0.3"}},
	}
	if d := cmp.Diff(want, p.Doc.Subnets); d != "" {
		t.Errorf("subnets (-want +got):\n%s", d)
	}
	if err := registry.CheckObjectName("subnet", want[0].Name); err != nil {
		t.Error(err)
	}
	reg := &registry.Document{Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.10.0.0/16"}}}
	if p := planFixture(t, reg); len(p.Doc.Subnets) != 0 {
		t.Errorf("with 10.10.0.0/16 in the registry: subnets %v, want none", p.Doc.Subnets)
	}
}

// The plan imports into a real registry, and planning again against it
// finds everything there: a second import changes nothing.
func TestPlanImportsIntoRegistry(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.OpenZone(t, "internal")
	p := planFixture(t, nil)
	y, _ := p.YAML()
	rep, err := reg.Import(ctx, y, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 2+4+6+3+47 {
		t.Fatalf("import: %d added: %v", len(rep.Added), rep.Added)
	}
	sys, _ := reg.Snapshot().SystemByName("web021")
	if sys.Status != registry.StatePending || sys.Deadline == "" || !sys.Netboot {
		t.Errorf("web021 after import: %+v, want a build pending", sys)
	}
	exported, err := reg.Snapshot().Export(true)
	if err != nil {
		t.Fatal(err)
	}
	var doc registry.Document
	if err := yaml.Unmarshal(exported, &doc); err != nil {
		t.Fatal(err)
	}
	again := planFixture(t, &doc)
	if len(again.Conflicts) != len(p.Conflicts) || len(again.Uploads) != 0 || len(again.Doc.Subnets) != 0 {
		t.Fatalf("planned again: %d conflicts, %d uploads, %d subnets; want %d, 0, 0", len(again.Conflicts), len(again.Uploads), len(again.Doc.Subnets), len(p.Conflicts))
	}
	if len(again.Existing) != 2+4+6+47 || len(again.WithoutFiles) != 0 {
		t.Errorf("planned again: %d existing, want every object (the image without files kept as it is: %q): %v", len(again.Existing), again.WithoutFiles, again.Existing)
	}
	y, _ = again.YAML()
	if rep, err = reg.Import(ctx, y, false); err != nil || len(rep.Added)+len(rep.Changed) != 0 {
		t.Errorf("second import: %+v, %v; want nothing added or changed", rep, err)
	}
}
