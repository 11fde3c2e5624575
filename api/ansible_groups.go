package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// AnsibleGroupings are the registry fields the inventory always groups
// by: a system of profile web is in group profile_web, itself in group
// profile.
var AnsibleGroupings = []string{"profile", "image", "site", "subnet", "state"}

// maxGroupBy bounds the settings one inventory groups by.
const maxGroupBy = 32

// AnsibleGroupName is the group of the systems whose key has value:
// KEY_VALUE with every character but ASCII letters, digits and '_'
// turned into '_', and a '_' in front of a leading digit (Ansible's
// rules for a group name). Values that differ only there share a group.
func AnsibleGroupName(key, value string) string {
	return ansibleName(key + "_" + value)
}

func ansibleName(s string) string {
	name := []rune(s)
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			name[i] = '_'
		}
	}
	if len(name) > 0 && name[0] >= '0' && name[0] <= '9' {
		return "_" + string(name)
	}
	return string(name)
}

// ansibleGroupBy checks the setting keys an inventory is to group by:
// each a setting key, at most maxGroupBy, none making the groups of
// another or of a built-in grouping, nor Ansible's own all and ungrouped.
func ansibleGroupBy(keys []string) ([]string, error) {
	taken := map[string]string{"all": "Ansible's own", "ungrouped": "Ansible's own"}
	for _, g := range AnsibleGroupings {
		taken[g] = "the inventory's own grouping"
	}
	var out []string
	for _, key := range keys {
		k, err := registry.CheckSettingKey(key)
		if err != nil {
			return nil, fmt.Errorf("group_by: %w", err)
		}
		if slices.Contains(out, k) {
			continue
		}
		if by, ok := taken[ansibleName(k)]; ok {
			return nil, fmt.Errorf("group_by %s: group %s is %s", key, ansibleName(k), by)
		}
		taken[ansibleName(k)] = "made by group_by " + k
		out = append(out, k)
	}
	if len(out) > maxGroupBy {
		return nil, fmt.Errorf("group_by: %d keys, at most %d", len(out), maxGroupBy)
	}
	return out, nil
}

// Inventory is snap's systems as an Ansible inventory, grouped by
// AnsibleGroupings and by the settings groupBy names (checked keys): a
// system whose value is empty, or secret, is in no group of that key.
func Inventory(snap *registry.Snapshot, groupBy []string) AnsibleInventory {
	inv := AnsibleInventory{Groups: map[string]*AnsibleGroup{}, Hostvars: map[string]AnsibleHost{}}
	children := map[string]map[string]bool{}
	for _, sys := range snap.Systems() { // sorted: so are the groups' hosts
		h := ansibleHost(snap, sys)
		inv.Hostvars[sys.Name] = h
		for _, kv := range h.groupings(groupBy) {
			if kv[1] == "" {
				continue
			}
			parent, child := ansibleName(kv[0]), AnsibleGroupName(kv[0], kv[1])
			if children[parent] == nil {
				children[parent] = map[string]bool{}
			}
			children[parent][child] = true
			inv.group(child).Hosts = append(inv.group(child).Hosts, sys.Name)
		}
	}
	for parent, set := range children {
		inv.group(parent).Children = slices.Sorted(maps.Keys(set))
	}
	inv.group("all").Children = slices.Sorted(maps.Keys(children))
	return inv
}

// groupings are h's values of the built-in groupings, then of groupBy.
func (h AnsibleHost) groupings(groupBy []string) [][2]string {
	builtIn := map[string]string{"profile": h.Profile, "image": h.Image, "site": h.Site, "subnet": h.Subnet, "state": h.Status}
	var out [][2]string
	for _, k := range AnsibleGroupings {
		out = append(out, [2]string{k, builtIn[k]})
	}
	for _, k := range groupBy {
		out = append(out, [2]string{k, strings.TrimSpace(h.Settings[k])})
	}
	return out
}

func (inv AnsibleInventory) group(name string) *AnsibleGroup {
	g := inv.Groups[name]
	if g == nil {
		g = &AnsibleGroup{}
		inv.Groups[name] = g
	}
	return g
}
