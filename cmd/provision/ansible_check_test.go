package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// ansibleWant is the inventory the registry calls for, worked out here
// from `provision export` (no secrets): groups as group -> hosts or
// children (sorted), and each host's vars as JSON values.
type ansibleWant struct {
	groups map[string][]string
	hosts  map[string]any
}

func wantAnsible(t *testing.T, s *server, groupBy ...string) ansibleWant {
	t.Helper()
	var doc registry.Document
	if err := yaml.Unmarshal([]byte(s.ok("export")), &doc); err != nil {
		t.Fatal(err)
	}
	w := ansibleWant{groups: map[string][]string{}, hosts: map[string]any{}}
	profiles := map[string]registry.Profile{}
	for _, p := range doc.Profiles {
		profiles[p.Name] = p
	}
	for _, sys := range doc.Systems {
		p := profiles[sys.Profile]
		h := api.AnsibleHost{AnsibleHost: sys.IP, IP: sys.IP, Hostname: sys.Hostname, MACs: sys.MACs, Profile: sys.Profile,
			Image: p.Image, Status: sys.Status, Settings: map[string]string{}}
		for i, mac := range sys.MACs { // the test's systems have MACs only: eth0 carries the IP
			v := api.InterfaceView{Interface: registry.Interface{Name: fmt.Sprintf("eth%d", i), MAC: mac, Primary: i == 0}, Kind: "physical"}
			if i == 0 {
				v.Address = sys.IP
			}
			h.Interfaces = append(h.Interfaces, v)
		}
		if b := sys.BMC; b != nil {
			h.BMC = &api.AnsibleBMC{Address: b.Address, User: b.User, Provider: b.Provider, Port: b.Port}
		}
		for _, sub := range doc.Subnets {
			if netip.MustParsePrefix(sub.CIDR).Contains(netip.MustParseAddr(sys.IP)) {
				h.Subnet, h.Site = sub.Name, sub.Site
			}
		}
		level := func(plain map[string]string, secret []string) {
			maps.Copy(h.Settings, plain)
			for _, k := range secret {
				delete(h.Settings, k)
			}
		}
		level(doc.Settings, slices.Collect(maps.Keys(doc.SecretSettings)))
		level(p.Settings, p.SecretSettings.Keys())
		level(sys.Settings, sys.SecretSettings.Keys())
		w.hosts[sys.Name] = jsonValue(t, h)
		pairs := [][2]string{{"profile", h.Profile}, {"image", h.Image}, {"site", h.Site}, {"subnet", h.Subnet}, {"state", h.Status}}
		for _, k := range groupBy {
			pairs = append(pairs, [2]string{k, h.Settings[k]})
		}
		for _, kv := range pairs {
			if kv[1] != "" { // the test's keys are group names already
				w.add("all", kv[0])
				w.add(kv[0], api.AnsibleGroupName(kv[0], kv[1]))
				w.add(api.AnsibleGroupName(kv[0], kv[1]), sys.Name)
			}
		}
	}
	return w
}

func (w ansibleWant) add(group, member string) {
	if !slices.Contains(w.groups[group], member) {
		w.groups[group] = append(w.groups[group], member)
		slices.Sort(w.groups[group])
	}
}

func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	json.Unmarshal(b, &out)
	return out
}

// checkList compares the JSON of an inventory's --list with w: each
// group's hosts and children, and every host's vars. Ansible adds an
// empty group ungrouped, which holds no host.
func (w ansibleWant) checkList(t *testing.T, what, out string) {
	t.Helper()
	var inv api.AnsibleInventory
	if err := json.Unmarshal([]byte(out), &inv); err != nil {
		t.Fatalf("%s: %v\n%.2000s", what, err, out)
	}
	got := map[string][]string{}
	for name, g := range inv.Groups {
		members := slices.Sorted(slices.Values(append(g.Hosts, g.Children...)))
		if name == "ungrouped" && len(members) == 0 {
			continue
		}
		got[name] = slices.DeleteFunc(members, func(m string) bool { return m == "ungrouped" })
	}
	if d := cmp.Diff(w.groups, got); d != "" {
		t.Errorf("%s: groups (-registry +inventory):\n%s", what, d)
	}
	if d := cmp.Diff(w.hosts, jsonValue(t, inv.Hostvars)); d != "" {
		t.Errorf("%s: host vars (-registry +inventory):\n%s", what, d)
	}
}

// checkGraph compares `ansible-inventory --graph` with w: the tree's
// edges, "@group:" lines holding deeper "|--" lines.
func (w ansibleWant) checkGraph(t *testing.T, out string) {
	t.Helper()
	got := map[string][]string{}
	var path []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		depth, name := 0, line
		if i := strings.Index(line, "|--"); i >= 0 {
			depth, name = i/3+1, line[i+3:]
		}
		name = strings.TrimSuffix(strings.TrimPrefix(name, "@"), ":")
		path = append(path[:min(depth, len(path))], name)
		if depth > 0 && name != "ungrouped" {
			got[path[depth-1]] = append(got[path[depth-1]], name)
		}
	}
	for g := range got {
		slices.Sort(got[g])
	}
	if d := cmp.Diff(w.groups, got); d != "" {
		t.Errorf("--graph (-registry +graph):\n%s\n%.3000s", d, out)
	}
}

// ansibleInventory runs ansible-inventory with args and env.
func ansibleInventory(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ansible-inventory", args...)
	cmd.Env = append(cmd.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "WARNING") {
		t.Fatalf("ansible-inventory %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// cmpJSON compares a JSON value with a JSON text.
func cmpJSON(t *testing.T, want any, got string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	return cmp.Diff(want, v)
}
