package cobbler

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// index is the registry's export, indexed the way its conflict rules
// look things up.
type index struct {
	systems   map[string]*registry.System
	byIP      map[netip.Addr]*registry.System
	byBMC     map[netip.Addr]*registry.System
	byMAC     map[string]*registry.System
	byHost    map[string]*registry.System
	images    map[string]*registry.Image
	profiles  map[string]*registry.Profile
	templates map[string]*kickstart.Template
	subnets   []*subnetPlan
}

func newIndex(d *registry.Document) (*index, error) {
	x := &index{systems: map[string]*registry.System{}, byIP: map[netip.Addr]*registry.System{},
		byBMC: map[netip.Addr]*registry.System{}, byMAC: map[string]*registry.System{},
		byHost: map[string]*registry.System{}, images: map[string]*registry.Image{},
		profiles: map[string]*registry.Profile{}, templates: map[string]*kickstart.Template{}}
	for i := range d.Systems {
		s := &d.Systems[i]
		x.systems[s.Name] = s
		if ip, err := netip.ParseAddr(s.IP); err == nil {
			x.byIP[ip] = s
		}
		for _, m := range s.MACs {
			if c, err := registry.CanonicalMAC(m); err == nil {
				x.byMAC[c] = s
			}
		}
		if s.Hostname != "" {
			x.byHost[strings.ToLower(s.Hostname)] = s
		}
		if s.BMC != nil {
			if ip, err := netip.ParseAddr(s.BMC.Address); err == nil {
				x.byBMC[ip] = s
			}
		}
	}
	for i := range d.Images {
		x.images[d.Images[i].Name] = &d.Images[i]
	}
	for i := range d.Profiles {
		x.profiles[d.Profiles[i].Name] = &d.Profiles[i]
	}
	for i := range d.Templates {
		x.templates[d.Templates[i].Name] = &d.Templates[i]
	}
	for _, sub := range d.Subnets {
		sp, err := parseSubnet(sub)
		if err != nil {
			return nil, fmt.Errorf("the registry's subnet %s: %w", sub.Name, err)
		}
		sp.existing = true
		x.subnets = append(x.subnets, sp)
	}
	return x, nil
}

// sameMachine reports whether a registry system is the Cobbler one: the
// same MACs and IP. It is then updated, not a conflict.
func sameMachine(old *registry.System, macs []string, ip netip.Addr) bool {
	if old.IP != ip.String() || len(old.MACs) != len(macs) {
		return false
	}
	for _, m := range old.MACs {
		c, _ := registry.CanonicalMAC(m)
		found := false
		for _, n := range macs {
			found = found || n == c
		}
		if !found {
			return false
		}
	}
	return true
}
