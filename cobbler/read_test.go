package cobbler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixture = "testdata/cobbler"

func TestReadFixture(t *testing.T) {
	for _, dir := range []string{fixture, fixture + "/collections"} {
		c, err := Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Distros) != 4 || len(c.Profiles) != 6 || len(c.Systems) != 52 || c.Others["repos"] != 1 {
			t.Errorf("Read(%s): %d distros, %d profiles, %d systems, others %v", dir, len(c.Distros), len(c.Profiles), len(c.Systems), c.Others)
		}
		if c.Base != fixture {
			t.Errorf("Read(%s): base %q, want %q (where templates/ is)", dir, c.Base, fixture)
		}
	}
}

func TestReadFields(t *testing.T) {
	c, err := Read(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var web, lb System
	for _, s := range c.Systems {
		switch s.Name {
		case "web021":
			web = s
		case "lb001.dc1.example.com":
			lb = s
		}
	}
	if !web.NetbootEnabled || web.PowerType != "ipmilanplus" || web.PowerAddress != "10.0.1.31" || web.PowerPass != "bmc-web021" || web.Profile != "centos7-web" {
		t.Errorf("web021: %+v", web)
	}
	got := []string{}
	for _, i := range lb.Interfaces {
		got = append(got, i.Name+" "+i.MAC+" "+i.IP+" "+i.Type)
	}
	want := []string{"bond0  10.10.2.11 bond", "eth0 52:54:00:30:00:01  bond_slave", "eth1 52:54:00:30:01:01  bond_slave"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lb001's interfaces (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"10.10.0.2", "10.10.0.3"}, lb.NameServers); d != "" {
		t.Errorf("lb001's name servers: %s", d)
	}
}

// One file of systems, as a dump writes them: an array, or an object of
// kinds; objects told apart by their fields.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"array.json": `[{"name": "web001", "profile": "p", "interfaces": {"eth10": {"mac_address": "52:54:00:00:00:10"}, "eth2": {"mac_address": "52:54:00:00:00:02", "ip_address": "~"}}},
			{"name": "p", "distro": "d"}, {"name": "d", "kernel": "/k", "initrd": "/i"}]`,
		"kinds.json": `{"distros": [{"name": "d", "kernel": "/k", "initrd": "/i"}], "profiles": [{"name": "p", "distro": "d"}],
			"systems": [{"name": "web001", "profile": "p", "interfaces": {"eth10": {"mac_address": "52:54:00:00:00:10"}, "eth2": {"mac_address": "52:54:00:00:00:02"}}}]}`,
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(text), 0o644)
		c, err := Read(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.Distros) != 1 || len(c.Profiles) != 1 || len(c.Systems) != 1 {
			t.Fatalf("%s: %+v", name, c)
		}
		ifs := c.Systems[0].Interfaces
		if ifs[0].Name != "eth2" || ifs[1].Name != "eth10" || ifs[0].IP != "" {
			t.Errorf("%s: interfaces %+v, want eth2 (ip ~ unset) before eth10", name, ifs)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"name": "x", "comment": "what am I"}]`), 0o644)
	if _, err := Read(bad); err == nil || !strings.Contains(err.Error(), `object 1 ("x") is neither a distro, a profile nor a system`) {
		t.Errorf("Read of an unknown object: %v", err)
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "no Cobbler collections") {
		t.Errorf("Read of a directory without collections: %v", err)
	}
}

func TestValues(t *testing.T) {
	for _, c := range []struct {
		in   any
		want bool
	}{{true, true}, {"True", true}, {"1", true}, {"yes", true}, {false, false}, {"False", false}, {"~", false}, {nil, false}} {
		if got := boolean(c.in); got != c.want {
			t.Errorf("boolean(%#v) = %v", c.in, got)
		}
	}
	if d := cmp.Diff([]string{"10.0.0.2", "10.0.0.3"}, list("10.0.0.2, 10.0.0.3")); d != "" {
		t.Error(d)
	}
	if list(Inherit) != nil || list([]any{}) != nil {
		t.Error("an inherited or empty list is nil")
	}
	if d := cmp.Diff(map[string]string{"a": "1", "b": "x y"}, dict("a=1 b=x b=y")); d != "" {
		t.Error(d)
	}
}
