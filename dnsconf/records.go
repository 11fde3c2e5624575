package dnsconf

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Records returns every record of the zone in a deterministic order, one
// block per apex (the origin first, then the reverse zones): the SOA, the
// NS records, then the other names in canonical order (RFC 4034 6.1),
// each name's records by type. The slice is new; the records are shared
// and must not be modified. The order is computed on the first call.
func (z *Zone) Records() []dns.RR {
	z.sorted.once.Do(func() { z.sorted.rrs = z.sortRecords() })
	return slices.Clone(z.sorted.rrs)
}

func (z *Zone) sortRecords() []dns.RR {
	type keyed struct{ key, name string }
	names := make([]keyed, 0, z.nodes.n+z.hostNodes+z.addrNodes)
	for name, n := range z.nodes.all() {
		if _, isApex := z.apexes[name]; !isApex && (len(n.sets) > 0 || z.node(name) != n) {
			names = append(names, keyed{sortKey(name), name})
		}
	}
	hosts := map[string][]dns.RR{} // the _host subtree's, by name
	if z.hosts != nil {
		for _, sys := range z.hosts.src.Systems() {
			for _, r := range z.hosts.recs(sys) {
				if hosts[r.name] == nil {
					names = append(names, keyed{sortKey(r.name), r.name})
				}
				hosts[r.name] = append(hosts[r.name], z.hostTXT(r))
			}
			for _, name := range z.hosts.addrNames(sys) { // the A and PTR records the view serves, at names that are not nodes
				if o, _ := z.hosts.addrOwner(name); o == sys && z.nodes.get(name) == nil {
					names = append(names, keyed{sortKey(name), name})
				}
			}
		}
	}
	slices.SortFunc(names, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	byApex := map[string][]string{}
	for _, k := range names {
		a, _ := z.apexNameOf(k.name)
		byApex[a] = append(byApex[a], k.name)
	}
	out := make([]dns.RR, 0, z.size)
	for _, a := range z.order {
		n := z.nodes.get(a)
		out = append(out, n.get(dns.TypeSOA)...)
		out = append(out, n.get(dns.TypeNS)...)
		for _, s := range n.sets {
			if s.t != dns.TypeSOA && s.t != dns.TypeNS {
				out = append(out, s.rrs...)
			}
		}
		for _, name := range byApex[a] {
			if rrs, ok := hosts[name]; ok {
				out = append(out, rrs...)
			} else {
				out = append(out, z.node(name).all()...)
			}
		}
	}
	return out
}
