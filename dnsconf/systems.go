package dnsconf

import (
	"net/netip"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// host is a system with its parsed address.
type host struct {
	sys     *registry.System
	ip      netip.Addr
	contrib *contrib // in a whole build: what it put in the zone
}

// systems adds, for every system: the A records of NAME.ORIGIN and of its
// hostname (if inside the zone), the PTR record of its IP, and the TXT
// records of its profile and effective settings under NAME._host.ORIGIN.
// Names go first, then hostnames, so that a hostname never takes the
// name of another system.
func (b *builder) systems(src Source, systems []*registry.System) {
	hosts := make([]host, 0, len(systems))
	for _, sys := range systems {
		b.begin(systemKey(sys.Name))
		h := b.host(sys)
		h.contrib = b.cur
		hosts = append(hosts, h)
	}
	on := func(h host) { b.cur = h.contrib }
	owner := map[string]string{nsLabel + "." + b.z.origin: "the appliance's name server"}
	for _, h := range hosts {
		on(h)
		b.address(h, canonicalName(h.sys.Name+"."+b.z.origin), owner)
	}
	for _, h := range hosts {
		on(h)
		b.hostname(h, owner)
	}
	ptrs := map[netip.Addr]string{}
	for _, h := range hosts {
		on(h)
		b.ptr(h, ptrs)
		b.hostSettings(h.sys, src.EffectiveSettings(h.sys))
	}
	b.cur = nil
}

// system adds one system to a zone being changed (Zone.update), with the
// records of a whole build, unless one of its names is held.
func (b *builder) system(src Source, sys *registry.System) {
	b.begin(systemKey(sys.Name))
	h := b.host(sys)
	owner := map[string]string{}
	b.address(h, canonicalName(h.sys.Name+"."+b.z.origin), owner)
	b.hostname(h, owner)
	b.ptr(h, map[netip.Addr]string{})
	b.hostSettings(h.sys, src.EffectiveSettings(h.sys))
	b.cur = nil
}

func (b *builder) host(sys *registry.System) host {
	ip, err := netip.ParseAddr(sys.IP)
	if err != nil || !ip.Is4() {
		b.problem("system %s: ip %q is not an IPv4 address: no A or PTR record", sys.Name, sys.IP)
	}
	return host{sys: sys, ip: ip}
}

// hostname adds the A record of the system's hostname, when it is in the
// origin and is not its name.
func (b *builder) hostname(h host, owner map[string]string) {
	name := canonicalName(h.sys.Hostname)
	own := canonicalName(h.sys.Name + "." + b.z.origin)
	if a, ok := b.z.apexNameOf(name); ok && a == b.z.origin && name != own {
		b.address(h, name, owner)
	}
}

// address adds the A record name -> the system's IP, unless another
// system (or the name server) holds the name.
func (b *builder) address(h host, name string, owner map[string]string) {
	if !h.ip.Is4() {
		return
	}
	if o, taken := owner[name]; taken {
		b.problem("system %s: %s already belongs to %s: no A record", h.sys.Name, name, o)
		b.z.fragile = true
		return
	}
	if !b.free(name, dns.TypeA) {
		return
	}
	if !validName(name) {
		b.problem("system %s: %s is not a valid DNS name: no A record", h.sys.Name, name)
		return
	}
	owner[name] = "system " + h.sys.Name
	b.add(&dns.A{Hdr: b.hdr(name, dns.TypeA), A: h.ip.AsSlice()})
}

// ptr adds the PTR record IP -> hostname in the reverse zone of the IP.
func (b *builder) ptr(h host, ptrs map[netip.Addr]string) {
	if !h.ip.Is4() {
		return
	}
	name := ptrName(h.ip)
	switch a, ok := b.z.apexNameOf(name); {
	case !ok || a == b.z.origin:
		b.problem("system %s: ip %s is in no subnet: no PTR record", h.sys.Name, h.ip)
	case ptrs[h.ip] != "":
		b.problem("system %s: ip %s already belongs to system %s: no PTR record", h.sys.Name, h.ip, ptrs[h.ip])
		b.z.fragile = true
	case !b.free(name, dns.TypePTR):
	case !validName(canonicalName(h.sys.Hostname)):
		b.problem("system %s: hostname %q is not a valid DNS name: no PTR record", h.sys.Name, h.sys.Hostname)
	default:
		ptrs[h.ip] = h.sys.Name
		b.add(&dns.PTR{Hdr: b.hdr(name, dns.TypePTR), Ptr: canonicalName(h.sys.Hostname)})
	}
}

// hostSettings publishes profile.NAME._host.ORIGIN and, for each
// effective setting, KEY.NAME._host.ORIGIN: they are a view of the
// Snapshot (hosts.go), so the zone only counts them, lists what had to
// be left out, and tells data.cdb's parts which names change.
func (b *builder) hostSettings(sys *registry.System, settings map[string]string) {
	if !b.incremental { // the records are made when data.cdb needs them (hostParts)
		if n, nodes, ok := hostCount(sys, settings, b.z.origin); ok {
			b.cur.hostRecs, b.cur.hostNodes = n, nodes
			b.z.size += n
			b.z.hostNodes += nodes
			return
		}
	}
	recs, problems := hostRecords(sys, settings, b.z.origin)
	for _, err := range problems {
		b.problemErr(err)
	}
	if len(recs) == 0 {
		return
	}
	nodes := hostNodeCount(recs, b.z.hostBase(sys.Name))
	b.cur.hostRecs, b.cur.hostNodes = len(recs), nodes
	b.z.size += len(recs)
	b.z.hostNodes += nodes
	if b.incremental {
		for _, r := range recs {
			b.z.nodes.hostName(r.name)
		}
	}
}

// takeOutHost takes the records of system name in the zone it was
// changed from (prev) out of data.cdb's parts.
func (b *builder) takeOutHost(prev *Zone, name string) {
	sys, ok := prev.hosts.src.SystemByName(name)
	if !ok {
		return
	}
	for _, r := range prev.hosts.recs(sys) {
		b.z.nodes.hostName(r.name)
	}
}
