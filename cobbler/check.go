package cobbler

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// checkSystems finds what Cobbler let through and provision refuses: two
// systems with one name, IP, MAC, host name or BMC address, and systems
// that clash with the registry's.
func (p *planner) checkSystems() {
	p.duplicates("name", func(sp *systemPlan) []string { return []string{sp.sys.Name} })
	p.duplicates("ip", func(sp *systemPlan) []string { return nonEmpty(sp.sys.IP) })
	p.duplicates("mac", func(sp *systemPlan) []string { return sp.sys.MACs })
	p.duplicates("hostname", func(sp *systemPlan) []string { return nonEmpty(sp.sys.Hostname) })
	p.duplicates("bmc address", func(sp *systemPlan) []string { return nonEmpty(bmcAddress(sp)) })
	byIP := map[netip.Addr]*systemPlan{}
	for _, sp := range p.systems {
		if sp.ip.IsValid() {
			byIP[sp.ip] = sp
		}
	}
	for _, sp := range p.systems {
		if o := byIP[sp.bmc]; sp.bmc.IsValid() && o != nil {
			p.conflict(labels(sp, o), "bmc address %s of %s is the ip of %s", sp.bmc, sp.label, o.label)
		}
	}
	for _, sp := range p.systems {
		p.checkRegistry(sp)
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func bmcAddress(sp *systemPlan) string {
	if sp.sys.BMC == nil {
		return ""
	}
	return sp.sys.BMC.Address
}

func labels(sps ...*systemPlan) []string {
	var out []string
	for _, sp := range sps {
		if !slices.Contains(out, sp.label) {
			out = append(out, sp.label)
		}
	}
	return out
}

// duplicates reports every value that keys gives two systems or more.
func (p *planner) duplicates(what string, keys func(*systemPlan) []string) {
	by := map[string][]*systemPlan{}
	var order []string
	for _, sp := range p.systems {
		for _, k := range keys(sp) {
			if len(by[k]) == 0 {
				order = append(order, k)
			}
			if !slices.Contains(by[k], sp) {
				by[k] = append(by[k], sp)
			}
		}
	}
	for _, k := range order {
		if sps := by[k]; len(sps) > 1 {
			ls := labels(sps...)
			p.conflict(ls, "%s %s is claimed by %s", what, k, andList(ls))
		}
	}
}

// andList joins "system a", "system b", "system c" as "systems a, b and c".
func andList(ls []string) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = strings.TrimPrefix(l, "system ")
	}
	if len(names) == 1 {
		return ls[0]
	}
	return "systems " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// checkRegistry: a system of the registry with the same name is the same
// machine (same MACs and IP: it is updated and keeps its state) or a
// conflict; the registry's other systems must not have its IP, MACs, host
// name or BMC address.
func (p *planner) checkRegistry(sp *systemPlan) {
	r := p.reg
	if old, ok := r.systems[sp.sys.Name]; ok {
		if sp.ip.IsValid() && sameMachine(old, sp.sys.MACs, sp.ip) {
			sp.existing = old
			sp.sys.ID, sp.sys.Status, sp.sys.StatusSince, sp.sys.Deadline, sp.sys.Netboot = old.ID, old.Status, old.StatusSince, old.Deadline, old.Netboot
		} else {
			p.conflict([]string{sp.label}, "system %s is already in the registry, with mac %s and ip %s (%s has %s and %s)",
				sp.sys.Name, strings.Join(old.MACs, ","), old.IP, sp.label, or(strings.Join(sp.sys.MACs, ","), "none"), or(sp.sys.IP, "none"))
			return
		}
	}
	other := func(o *registry.System) bool { return o != nil && o.Name != sp.sys.Name }
	if o := r.byIP[sp.ip]; sp.ip.IsValid() && other(o) {
		p.conflict([]string{sp.label}, "ip %s of %s is already used by system %s of the registry", sp.ip, sp.label, o.Name)
	}
	if o := r.byBMC[sp.ip]; sp.ip.IsValid() && other(o) {
		p.conflict([]string{sp.label}, "ip %s of %s is already the BMC address of system %s of the registry", sp.ip, sp.label, o.Name)
	}
	for _, m := range sp.sys.MACs {
		if o := r.byMAC[m]; other(o) {
			p.conflict([]string{sp.label}, "mac %s of %s is already used by system %s of the registry", m, sp.label, o.Name)
		}
	}
	if o := r.byHost[sp.sys.Hostname]; sp.sys.Hostname != "" && other(o) {
		p.conflict([]string{sp.label}, "hostname %s of %s is already used by system %s of the registry", sp.sys.Hostname, sp.label, o.Name)
	}
	if sp.bmc.IsValid() {
		if o := r.byIP[sp.bmc]; other(o) {
			p.conflict([]string{sp.label}, "bmc address %s of %s is already the ip of system %s of the registry", sp.bmc, sp.label, o.Name)
		}
		if o := r.byBMC[sp.bmc]; other(o) {
			p.conflict([]string{sp.label}, "bmc address %s of %s is already the BMC address of system %s of the registry", sp.bmc, sp.label, o.Name)
		}
	}
}
