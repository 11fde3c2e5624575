package dnsconf

import (
	"net/netip"
	"runtime"
	"sync"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// host is a system being added, with its parsed address and the names
// of its A and PTR records ("" when it has none there), which of those it
// won and which the view would serve it at, and its _host subtree's
// tally.
type host struct {
	sys              *registry.System
	ip               netip.Addr // invalid: not IPv4
	contrib          *contrib   // in a whole build, once made
	name, hname, rev string
	won, own         [3]bool // name, hname, rev
	recs, nodes      int
	problems         []error
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
// name of another system. The records the view serves (hosts.go,
// addrs.go) are only counted; if the view would serve an A or PTR record
// the build did not make, the view is turned off for them and every one
// stored. What each system needs alone (its names, what the view would
// serve, its _host tally) is worked out on every CPU first.
func (b *builder) systems(systems []*registry.System) {
	hosts := make([]host, len(systems))
	chunks := 1
	if len(hosts) >= 4096 {
		chunks = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for c := range chunks {
		wg.Go(func() {
			for i := c * len(hosts) / chunks; i < (c+1)*len(hosts)/chunks; i++ {
				h := &hosts[i]
				h.sys = systems[i]
				b.prepare(h)
				h.recs, h.nodes, _, h.problems = b.z.hosts.tally(h.sys, false)
			}
		})
	}
	wg.Wait()
	on := func(h *host) { b.begin('1', h.sys.Name); b.cur = h.contrib }
	off := func(h *host) { h.contrib = b.cur; b.end() }
	for i := range hosts {
		if h := &hosts[i]; !h.ip.IsValid() {
			on(h)
			b.notIPv4(h)
			off(h)
		}
	}
	owner := make(owners, len(hosts)+1)
	owner[nsLabel+"."+b.z.origin] = nsOwner
	for i := range hosts {
		if h := &hosts[i]; h.name != "" {
			on(h)
			h.won[0] = b.address(h, h.name, owner)
			off(h)
		}
	}
	for i := range hosts {
		if h := &hosts[i]; h.hname != "" {
			on(h)
			h.won[1] = b.address(h, h.hname, owner)
			off(h)
		}
	}
	ptrs := make(map[netip.Addr]*registry.System, len(hosts))
	for i := range hosts {
		h := &hosts[i]
		on(h)
		h.won[2] = b.ptr(h, ptrs)
		for _, err := range h.problems {
			b.problemErr(err)
		}
		b.z.size += h.recs
		b.z.hostNodes += h.nodes
		off(h)
	}
	// The view serves the records it would serve that system at and that
	// it won. Where it would serve a record no system won, it cannot
	// serve any.
	holds := addrView
	for i := range hosts {
		h := &hosts[i]
		for j, name := range [3]string{h.name, h.hname, h.rev} {
			if h.own[j] && !h.won[j] && (j == 2 && ptrs[h.ip] == nil || j < 2 && (owner[name] == nil || owner[name] == nsOwner)) {
				holds = false
			}
		}
	}
	b.z.hosts.addrs = holds
	for i := range hosts {
		h := &hosts[i]
		on(h)
		for j, name := range [3]string{h.name, h.hname, h.rev} {
			switch {
			case !h.won[j]:
			case holds && h.own[j]:
				b.viewedRecord(name)
			case j < 2:
				b.store(h, name, dns.TypeA)
			default:
				b.store(h, name, dns.TypePTR)
			}
		}
		off(h)
	}
}

// system adds one system to a zone being changed (Zone.update), with the
// records of a whole build, unless one of its names is held.
func (b *builder) system(sys *registry.System) {
	b.begin('1', sys.Name)
	defer b.end()
	h := &host{sys: sys}
	b.prepare(h)
	if !h.ip.IsValid() {
		b.notIPv4(h)
	}
	owner := owners{}
	if h.name != "" && b.address(h, h.name, owner) {
		b.place(h, h.name, dns.TypeA)
	}
	if h.hname != "" && b.address(h, h.hname, owner) {
		b.place(h, h.hname, dns.TypeA)
	}
	if b.ptr(h, map[netip.Addr]*registry.System{}) {
		b.place(h, h.rev, dns.TypePTR)
	}
	b.hostSettings(h.sys)
}

// prepare parses the system's address and names the records it may have,
// and which of them the view would serve it at. It only reads the zone.
func (b *builder) prepare(h *host) {
	ip, err := netip.ParseAddr(h.sys.IP)
	if err != nil || !ip.Is4() {
		return
	}
	h.ip = ip
	h.name = canonicalName(h.sys.Name + "." + b.z.origin)
	if name := canonicalName(h.sys.Hostname); name != h.name {
		if a, ok := b.z.apexNameOf(name); ok && a == b.z.origin {
			h.hname = name
		}
	}
	h.rev = ptrName(ip)
	for j, name := range [3]string{h.name, h.hname, h.rev} {
		if name != "" {
			o, _ := b.z.hosts.addrOwner(name)
			h.own[j] = o == h.sys
		}
	}
}

func (b *builder) notIPv4(h *host) {
	b.problem("system %s: ip %q is not an IPv4 address: no A or PTR record", h.sys.Name, h.sys.IP)
}

// address reports whether the system wins the A record name -> its IP:
// no other system (or the name server) holds the name, and it can be
// served.
func (b *builder) address(h *host, name string, owner owners) bool {
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
func (b *builder) ptr(h *host, ptrs map[netip.Addr]*registry.System) bool {
	if h.rev == "" {
		return false
	}
	switch a, ok := b.z.apexNameOf(h.rev); {
	case !ok || a == b.z.origin:
		b.problem("system %s: ip %s is in no subnet: no PTR record", h.sys.Name, h.ip)
	case ptrs[h.ip] != nil:
		b.problem("system %s: ip %s already belongs to system %s: no PTR record", h.sys.Name, h.ip, ptrs[h.ip].Name)
		b.z.fragile = true
	case !b.free(h.sys, h.rev, dns.TypePTR):
	case !validHostname(h.sys.Hostname):
		b.problem("system %s: hostname %q is not a valid DNS name: no PTR record", h.sys.Name, h.sys.Hostname)
	default:
		ptrs[h.ip] = h.sys
		return true
	}
	return false
}

// place puts the A or PTR record a changed system won at name in the
// zone, unless the view serves it there (addrs.go).
func (b *builder) place(h *host, name string, t uint16) {
	if b.viewed(h.sys, name, t) {
		b.viewedRecord(name)
		b.z.nodes.touch(name)
		return
	}
	b.store(h, name, t)
}

// store puts the system's A (t) or PTR record at name in the zone.
func (b *builder) store(h *host, name string, t uint16) {
	if t == dns.TypeA {
		b.add(&dns.A{Hdr: b.hdr(name, dns.TypeA), A: h.ip.AsSlice()})
	} else {
		b.add(&dns.PTR{Hdr: b.hdr(name, dns.TypePTR), Ptr: canonicalName(h.sys.Hostname)})
	}
}

// viewedRecord counts a record the view serves at name.
func (b *builder) viewedRecord(name string) {
	b.z.size++
	b.z.addrNodes++
	b.hold(name)
}

// hostSettings publishes profile.NAME._host.ORIGIN and, for each
// effective setting, KEY.NAME._host.ORIGIN: they are a view of the
// Snapshot (hosts.go), so the zone only counts them, lists what had to
// be left out, and tells data.cdb's parts which names change.
func (b *builder) hostSettings(sys *registry.System) {
	n, nodes, recs, problems := b.z.hosts.tally(sys, b.incremental)
	for _, err := range problems {
		b.problemErr(err)
	}
	b.z.size += n
	b.z.hostNodes += nodes
	if b.incremental {
		for _, r := range recs {
			b.z.nodes.touch(r.name)
		}
	}
}

// takeOutViews takes out of the zone the records of system name that the
// view served in the zone it is changed from (prev): its _host subtree,
// and its A and PTR records there (takeOut took out the others), and
// notes their names for data.cdb.
func (b *builder) takeOutViews(prev *Zone, name string) {
	sys, ok := prev.hosts.src.SystemByName(name)
	if !ok {
		return
	}
	n, nodes, recs, _ := prev.hosts.tally(sys, true)
	b.z.size -= n
	b.z.hostNodes -= nodes
	for _, r := range recs {
		b.z.nodes.touch(r.name)
	}
	for _, name := range prev.hosts.addrNames(sys) {
		if o, t := prev.hosts.addrOwner(name); o == sys {
			if n := prev.nodes.get(name); n == nil || n.get(t) == nil {
				b.z.size--
				b.z.addrNodes--
				b.z.nodes.touch(name)
				b.release(name)
			}
		}
	}
}
