package cobbler

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// systemPlan is the system a Cobbler system becomes.
type systemPlan struct {
	label    string
	src      *System
	sys      registry.System
	ip       netip.Addr   // invalid: none
	iface    *Interface   // the interface whose IP is the system's
	prefix   netip.Prefix // the IP with its interface's netmask, if any
	gateway  netip.Addr
	dns      []string
	bmc      netip.Addr
	existing *registry.System // the same machine, already in the registry
}

// planSystems maps each system; what makes one impossible is a conflict.
func (p *planner) planSystems() {
	for i := range p.c.Systems {
		src := &p.c.Systems[i]
		sp := &systemPlan{label: src.label(), src: src}
		p.systems = append(p.systems, sp)
		p.systemName(sp)
		p.systemAddresses(sp)
		p.systemProfile(sp)
		p.systemBMC(sp)
		p.systemRest(sp)
	}
	slices.SortFunc(p.systems, func(a, b *systemPlan) int {
		return naturalCompare(a.sys.Name+" "+a.src.Name, b.sys.Name+" "+b.src.Name)
	})
}

// systemName: a system's name is a DNS label; Cobbler's may be a host
// name ("web001.example.com": web001, and the host name unless the
// system has one).
func (p *planner) systemName(sp *systemPlan) {
	name := strings.ToLower(sp.src.Name)
	if first, _, ok := strings.Cut(name, "."); ok && registry.CheckSystemName(first) == nil {
		name = first
		if !strings.Contains(sp.src.Hostname, ".") {
			sp.sys.Hostname = strings.ToLower(sp.src.Name)
		}
	}
	if err := registry.CheckSystemName(name); err != nil {
		p.conflict([]string{sp.label}, "%s: %v", sp.label, err)
	}
	if name != sp.src.Name {
		p.out.Renamed[sp.label] = name
	}
	sp.sys.Name = name
}

// systemAddresses: every interface's MAC, the boot interface's first; the
// management interface's IP, else the first interface's that has one.
func (p *planner) systemAddresses(sp *systemPlan) {
	var first, mgmt *Interface
	for i := range sp.src.Interfaces {
		f := &sp.src.Interfaces[i]
		if f.MAC != "" {
			if _, err := registry.CanonicalMAC(f.MAC); err != nil {
				p.conflict([]string{sp.label}, "%s: interface %s: mac %q is not a MAC address", sp.label, f.Name, f.MAC)
			}
		}
		if f.IP == "" {
			continue
		}
		if _, err := registry.CanonicalIPv4("ip", f.IP); err != nil {
			p.conflict([]string{sp.label}, "%s: interface %s: ip %q is not an IPv4 address", sp.label, f.Name, f.IP)
			continue
		}
		if first == nil {
			first = f
		}
		if mgmt == nil && f.Management {
			mgmt = f
		}
	}
	sp.iface = first
	if mgmt != nil {
		sp.iface = mgmt
	}
	if sp.iface == nil {
		p.conflict([]string{sp.label}, "%s: no interface has an IPv4 address (provision gives every system one)", sp.label)
	} else {
		sp.ip = netip.MustParseAddr(strings.TrimSpace(sp.iface.IP))
		sp.sys.IP = sp.ip.String()
		p.interfacePrefix(sp)
	}
	p.systemMACs(sp)
}

func (p *planner) systemMACs(sp *systemPlan) {
	var ifaces []Interface // the system's interface first
	for _, f := range sp.src.Interfaces {
		if sp.iface != nil && f.Name == sp.iface.Name {
			ifaces = append([]Interface{f}, ifaces...)
		} else {
			ifaces = append(ifaces, f)
		}
	}
	for _, f := range ifaces {
		if m, err := registry.CanonicalMAC(f.MAC); err == nil && !slices.Contains(sp.sys.MACs, m) {
			sp.sys.MACs = append(sp.sys.MACs, m)
		}
		if f.IP != "" && (sp.iface == nil || f.Name != sp.iface.Name) {
			p.lost("%s: interface %s ip %s (provision keeps one IP per system: %s's)", sp.label, f.Name, f.IP, ifaceName(sp.iface))
		}
	}
	if !slices.ContainsFunc(sp.src.Interfaces, func(f Interface) bool { return f.MAC != "" }) {
		p.conflict([]string{sp.label}, "%s: no interface has a MAC address", sp.label)
	}
}

func ifaceName(f *Interface) string {
	if f == nil {
		return "none"
	}
	return f.Name
}

// interfacePrefix reads the IP's network from its interface's netmask,
// and the gateway and name servers a new subnet would take.
func (p *planner) interfacePrefix(sp *systemPlan) {
	f := sp.iface
	if mask, err := netip.ParseAddr(f.Netmask); err == nil && mask.Is4() {
		if bits, ok := maskBits(mask); ok {
			sp.prefix = netip.PrefixFrom(sp.ip, bits).Masked()
		} else {
			p.lost("%s: interface %s netmask %s (not a netmask)", sp.label, f.Name, f.Netmask)
		}
	}
	for _, g := range []string{f.Gateway, sp.src.Gateway} {
		if gw, err := netip.ParseAddr(g); err == nil && gw.Is4() {
			sp.gateway = gw
			break
		}
	}
	servers := sp.src.NameServers
	if pp := p.profs[sp.src.Profile]; len(servers) == 0 && pp != nil {
		servers = pp.nameServers
	}
	for _, s := range servers {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			sp.dns = append(sp.dns, a.String())
		}
	}
}

// maskBits returns the length of a netmask such as 255.255.255.0.
func maskBits(mask netip.Addr) (int, bool) {
	b := mask.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&(1<<31) != 0 {
		bits++
		v <<= 1
	}
	return bits, v == 0
}

// systemProfile: the system's profile is one of the import's or the
// registry's; a system booting a Cobbler image cannot be imported.
func (p *planner) systemProfile(sp *systemPlan) {
	src := sp.src
	if unset(src.Profile) {
		if !unset(src.Image) {
			p.conflict([]string{sp.label}, "%s boots Cobbler image %s, which provision cannot import (only distros)", sp.label, src.Image)
		} else {
			p.conflict([]string{sp.label}, "%s has no profile", sp.label)
		}
		return
	}
	if pp, ok := p.profs[src.Profile]; ok {
		sp.sys.Profile = pp.prof.Name
		if pp.prof.Name == "" || p.isBlocked(pp.label) {
			p.block(sp.label, "its profile "+src.Profile+" is not imported")
		}
		return
	}
	if _, ok := p.reg.profiles[src.Profile]; ok {
		sp.sys.Profile = src.Profile
		return
	}
	p.conflict([]string{sp.label}, "%s: profile %s is neither in Cobbler's data nor in the registry", sp.label, src.Profile)
}

// ipmiTypes are the Cobbler power types (fence agents) provision speaks as
// IPMI; "redfish" is Redfish. Others are not carried over.
var ipmiTypes = []string{"ipmi", "ipmilan", "ipmilanplus", "ipmitool", "ipmilan_plus", "lanplus"}

func (p *planner) systemBMC(sp *systemPlan) {
	src := sp.src
	if src.PowerType == "" && src.PowerAddress == "" {
		return
	}
	provider := ""
	switch t := strings.ToLower(src.PowerType); {
	case slices.Contains(ipmiTypes, t) || strings.HasPrefix(t, "ipmilan"):
		provider = "ipmi"
	case t == "redfish" || t == "redfish_rest":
		provider = "redfish"
	default:
		if src.PowerAddress != "" {
			p.lost("%s: power type %s at %s (provision speaks to BMCs by IPMI and Redfish only)", sp.label, or(src.PowerType, "none"), src.PowerAddress)
		}
		return
	}
	addr, err := netip.ParseAddr(src.PowerAddress)
	switch {
	case src.PowerAddress == "":
		return
	case err != nil || !addr.Is4():
		p.lost("%s: power address %s (a BMC address is an IPv4 address)", sp.label, src.PowerAddress)
		return
	case provider == "ipmi" && len(src.PowerPass) > 20:
		p.lost("%s: its BMC (the password is %d bytes, IPMI takes 20 at most)", sp.label, len(src.PowerPass))
		return
	}
	sp.bmc = addr
	sp.sys.BMC = &registry.BMC{Address: addr.String(), User: src.PowerUser, Password: registry.Secret(src.PowerPass), Provider: provider}
}

// systemRest: host name, kernel arguments, settings and the state the
// system starts in.
func (p *planner) systemRest(sp *systemPlan) {
	src := sp.src
	for _, h := range append([]string{src.Hostname}, dnsNames(sp)...) {
		if strings.Contains(h, ".") {
			sp.sys.Hostname = h
			break
		}
	}
	if sp.sys.Hostname != "" {
		h, err := registry.CanonicalHostname(sp.sys.Hostname)
		if err != nil {
			p.lost("%s: %v (its host name is NAME.ZONE)", sp.label, err)
		}
		sp.sys.Hostname = h
	} else if src.Hostname != "" && !strings.EqualFold(src.Hostname, sp.sys.Name) {
		p.lost("%s: hostname %s (no domain: its host name is %s.ZONE)", sp.label, src.Hostname, sp.sys.Name)
	}
	args, lost := src.KernelOptions.render()
	sp.sys.KernelArgs = args
	for _, l := range lost {
		p.lost("%s: %s", sp.label, l)
	}
	sp.sys.Settings = p.settings(sp.label, src.AutoinstallMeta)
	sp.sys.Netboot = src.NetbootEnabled
	sp.sys.Status = registry.StateDiskless
	if pp := p.profs[src.Profile]; pp != nil && pp.installs() || pp == nil && p.reg.profiles[src.Profile] != nil && p.reg.profiles[src.Profile].Kickstart != "" {
		// netboot_enabled is Cobbler's "install at the next network boot".
		sp.sys.Status = registry.StateInstalled
		if src.NetbootEnabled {
			sp.sys.Status = registry.StatePending
		}
	}
}

// dnsNames are the interfaces' DNS names, the system's interface first.
func dnsNames(sp *systemPlan) []string {
	var out []string
	if sp.iface != nil && sp.iface.DNSName != "" {
		out = append(out, sp.iface.DNSName)
	}
	for _, f := range sp.src.Interfaces {
		if f.DNSName != "" && !slices.Contains(out, f.DNSName) {
			out = append(out, f.DNSName)
		}
	}
	return out
}
