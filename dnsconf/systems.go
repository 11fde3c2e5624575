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

// owners are the systems that won the A records of names; nsOwner stands
// for the appliance's name server.
type owners map[string]*registry.System

var nsOwner = &registry.System{}

func (o owners) label(sys *registry.System) string {
	if sys == nsOwner {
		return "the appliance's name server"
	}
	return "system " + sys.Name
}

// systems adds, for every system: the A records of NAME.ORIGIN and of its
// hostname (if inside the zone), the PTR record of its IP, and the TXT
// records of its profile and effective settings under NAME._host.ORIGIN.
// Names go first, then hostnames, so that a hostname never takes the
// name of another system. The A and PTR records the view serves
// (addrs.go) are only counted; if the view would serve one the build did
// not make, the view is turned off and every record stored.
func (b *builder) systems(src Source, systems []*registry.System) {
	hosts := make([]host, 0, len(systems))
	for _, sys := range systems {
		b.begin(systemKey(sys.Name))
		h := b.host(sys)
		h.contrib = b.cur
		hosts = append(hosts, h)
	}
	on := func(h host) { b.cur = h.contrib }
	owner := owners{nsLabel + "." + b.z.origin: nsOwner}
	type won struct {
		h    int
		name string
		t    uint16
	}
	wins := make([]won, 0, 2*len(hosts))
	for i, h := range hosts {
		on(h)
		if name := canonicalName(h.sys.Name + "." + b.z.origin); b.address(h, name, owner) {
			wins = append(wins, won{i, name, dns.TypeA})
		}
	}
	for i, h := range hosts {
		on(h)
		if name, ok := b.hostname(h); ok && b.address(h, name, owner) {
			wins = append(wins, won{i, name, dns.TypeA})
		}
	}
	ptrs := map[netip.Addr]*registry.System{}
	for i, h := range hosts {
		on(h)
		if b.ptr(h, ptrs) {
			wins = append(wins, won{i, ptrName(h.ip), dns.TypePTR})
		}
		b.hostSettings(h.sys, src.EffectiveSettings(h.sys))
	}
	b.z.hosts.addrs = addrView && b.viewHolds(hosts, owner, ptrs)
	for _, w := range wins {
		h := hosts[w.h]
		on(h)
		b.place(h, w.name, w.t)
	}
	b.cur = nil
}

// viewHolds reports whether every record the view would serve at the
// systems' names is one a whole build made (owner, ptrs).
func (b *builder) viewHolds(hosts []host, owner owners, ptrs map[netip.Addr]*registry.System) bool {
	for _, h := range hosts {
		for _, name := range b.z.hosts.addrNames(h.sys) {
			sys, t := b.z.hosts.addrOwner(name)
			if sys == nil {
				continue
			}
			if t == dns.TypeA && (owner[name] == nil || owner[name] == nsOwner) {
				return false
			}
			if ip, _ := ptrAddr(name); t == dns.TypePTR && ptrs[ip] == nil {
				return false
			}
		}
	}
	return true
}

// system adds one system to a zone being changed (Zone.update), with the
// records of a whole build, unless one of its names is held.
func (b *builder) system(src Source, sys *registry.System) {
	b.begin(systemKey(sys.Name))
	h := b.host(sys)
	owner := owners{}
	if name := canonicalName(h.sys.Name + "." + b.z.origin); b.address(h, name, owner) {
		b.place(h, name, dns.TypeA)
	}
	if name, ok := b.hostname(h); ok && b.address(h, name, owner) {
		b.place(h, name, dns.TypeA)
	}
	if b.ptr(h, map[netip.Addr]*registry.System{}) {
		b.place(h, ptrName(h.ip), dns.TypePTR)
	}
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

// hostname returns the system's hostname when it is in the origin and is
// not its name: the name of its second A record.
func (b *builder) hostname(h host) (string, bool) {
	name := canonicalName(h.sys.Hostname)
	own := canonicalName(h.sys.Name + "." + b.z.origin)
	if a, ok := b.z.apexNameOf(name); ok && a == b.z.origin && name != own {
		return name, true
	}
	return "", false
}

// address reports whether the system wins the A record name -> its IP:
// no other system (or the name server) holds the name, and it can be
// served.
func (b *builder) address(h host, name string, owner owners) bool {
	if !h.ip.Is4() {
		return false
	}
	if o, taken := owner[name]; taken {
		b.problem("system %s: %s already belongs to %s: no A record", h.sys.Name, name, owner.label(o))
		b.z.fragile = true
		return false
	}
	if !b.free(h.sys, name, dns.TypeA) {
		return false
	}
	if !validName(name) {
		b.problem("system %s: %s is not a valid DNS name: no A record", h.sys.Name, name)
		return false
	}
	owner[name] = h.sys
	return true
}

// ptr reports whether the system wins the PTR record IP -> hostname in
// the reverse zone of the IP.
func (b *builder) ptr(h host, ptrs map[netip.Addr]*registry.System) bool {
	if !h.ip.Is4() {
		return false
	}
	name := ptrName(h.ip)
	switch a, ok := b.z.apexNameOf(name); {
	case !ok || a == b.z.origin:
		b.problem("system %s: ip %s is in no subnet: no PTR record", h.sys.Name, h.ip)
	case ptrs[h.ip] != nil:
		b.problem("system %s: ip %s already belongs to system %s: no PTR record", h.sys.Name, h.ip, ptrs[h.ip].Name)
		b.z.fragile = true
	case !b.free(h.sys, name, dns.TypePTR):
	case !validName(canonicalName(h.sys.Hostname)):
		b.problem("system %s: hostname %q is not a valid DNS name: no PTR record", h.sys.Name, h.sys.Hostname)
	default:
		ptrs[h.ip] = h.sys
		return true
	}
	return false
}

// place puts the A or PTR record the system won at name in the zone,
// unless the view serves it (addrs.go): then it is only counted, and a
// change notes the name for data.cdb.
func (b *builder) place(h host, name string, t uint16) {
	if b.viewed(h.sys, name, t) {
		b.cur.addrs++
		b.z.size++
		b.z.addrNodes++
		b.hold(name)
		if b.incremental {
			b.z.nodes.touch(name)
		}
		return
	}
	if t == dns.TypeA {
		b.add(&dns.A{Hdr: b.hdr(name, dns.TypeA), A: h.ip.AsSlice()})
	} else {
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
			b.z.nodes.touch(r.name)
		}
	}
}

// takeOutHost takes the records of system name in the zone it was
// changed from (prev) that were views (its _host subtree, and the A and
// PTR records the view served) out of data.cdb's parts.
func (b *builder) takeOutHost(prev *Zone, name string) {
	sys, ok := prev.hosts.src.SystemByName(name)
	if !ok {
		return
	}
	for _, r := range prev.hosts.recs(sys) {
		b.z.nodes.touch(r.name)
	}
	for _, name := range prev.hosts.addrNames(sys) {
		if o, t := prev.hosts.addrOwner(name); o == sys {
			if n := prev.nodes.get(name); n == nil || n.get(t) == nil {
				b.z.nodes.touch(name)
				b.release(name)
			}
		}
	}
}
