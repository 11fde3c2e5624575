package api

import (
	"net/http"
	"net/netip"

	"github.com/provision/provision/registry"
)

// AnsibleInventory is the registry as Ansible's dynamic inventory
// scripts print it for --list (GET /api/v1/inventory): every group by
// name, then "_meta": {"hostvars": {HOST: AnsibleHost}}, so that Ansible
// never asks for one host at a time. docs/ansible.md says which groups.
type AnsibleInventory struct {
	Groups   map[string]*AnsibleGroup
	Hostvars map[string]AnsibleHost
}

// AnsibleGroup is one group: its hosts, or the groups it holds.
type AnsibleGroup struct {
	Hosts    []string `json:"hosts,omitempty"`
	Children []string `json:"children,omitempty"`
}

// AnsibleHost is one system's host variables (GET
// /api/v1/inventory?host=NAME, and _meta.hostvars): where Ansible
// connects, and the registry's fields under provision_. Never a BMC
// password, never a secret setting.
type AnsibleHost struct {
	AnsibleHost string            `json:"ansible_host,omitempty"` // the system's IP
	IP          string            `json:"provision_ip"`
	Hostname    string            `json:"provision_hostname"`
	MACs        []string          `json:"provision_macs"`
	Interfaces  []InterfaceView   `json:"provision_interfaces"`
	BMC         *AnsibleBMC       `json:"provision_bmc,omitempty"`
	Profile     string            `json:"provision_profile"`
	Image       string            `json:"provision_image,omitempty"`
	Subnet      string            `json:"provision_subnet,omitempty"`
	Site        string            `json:"provision_site,omitempty"`
	Status      string            `json:"provision_status"`
	Settings    map[string]string `json:"provision_settings"` // the effective ones but the secret ones
}

// AnsibleBMC is how a system's BMC is reached, without its password.
type AnsibleBMC struct {
	Address  string `json:"address"`
	User     string `json:"user,omitempty"`
	Provider string `json:"provider,omitempty"`
	Port     int    `json:"port,omitempty"`
}

// inventory answers GET /api/v1/inventory[?group_by=KEY...] with the
// whole inventory, and ?host=NAME with one system's variables.
func (s *server) inventory(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	q := r.URL.Query()
	if q.Has("host") {
		name := q.Get("host")
		sys, ok := snap.SystemByName(name)
		if !ok {
			writeError(w, http.StatusNotFound, "system "+name+" not found")
			return
		}
		writeJSON(w, http.StatusOK, ansibleHost(snap, sys))
		return
	}
	groupBy, err := ansibleGroupBy(q["group_by"])
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, Inventory(snap, groupBy))
}

// ansibleHost is sys's host variables.
func ansibleHost(snap *registry.Snapshot, sys *registry.System) AnsibleHost {
	h := AnsibleHost{AnsibleHost: sys.IP, IP: sys.IP, Hostname: sys.Hostname, MACs: sys.MACs,
		Interfaces: Interfaces(sys), Profile: sys.Profile, Status: sys.Status, Settings: map[string]string{}}
	if h.MACs == nil {
		h.MACs = []string{}
	}
	if b := sys.BMC; b != nil {
		h.BMC = &AnsibleBMC{Address: b.Address, User: b.User, Provider: b.Provider, Port: b.Port}
	}
	if p, ok := snap.Profile(sys.Profile); ok {
		h.Image = p.Image
	}
	if ip, err := netip.ParseAddr(sys.IP); err == nil {
		if sub, ok := snap.SubnetFor(ip); ok {
			h.Subnet, h.Site = sub.Name, sub.Site
		}
	}
	for _, st := range EffectiveSettings(snap, sys) {
		if !st.Secret {
			h.Settings[st.Key] = st.Value
		}
	}
	return h
}
