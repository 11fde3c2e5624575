package dnsconf

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// A system's A records (NAME.ORIGIN, and its hostname when that is in the
// origin) and its PTR record are, like the _host subtree, a view of the
// Snapshot: nothing is stored for them. A name below the origin is asked
// of the Snapshot by name, then by hostname, an address's name in a
// reverse zone by IP (addrOwner). The empty non-terminals above them
// (rack1.dsas. of web01.rack1.dsas., 0.64.10.in-addr.arpa. in a /16
// reverse zone) are nodes, which count the view's names below them among
// their kids.
//
// The view follows the rules of a whole build (systems.go: names before
// hostnames, the name server's name first, no record for an invalid name
// or an address that is not IPv4), but it cannot see a build's order, so
// a build stores a system's record only where the view would not serve
// that system there (the registry refuses such clashes; other Sources may
// have them): the record stored at a name turns the view off for its
// type there (withAddr). If the view would serve a record where the build
// put none, the build turns the view off for the whole zone and stores
// every record (builder.systems); that takes a Source that indexes
// systems differently from the build's rules, which no registry does.

// addrView is whether builds let the view serve the A and PTR records it
// can; false only in tests, that compare a zone that stores them all.
var addrView = true

// addrOwner returns the system whose A or PTR record the view serves at
// name (a lowercase FQDN) and the record's type, or nil.
func (v *hostView) addrOwner(name string) (*registry.System, uint16) {
	if v == nil || !v.addrs {
		return nil, 0
	}
	if label, ok := strings.CutSuffix(name, v.origin); ok && label != "" && label[len(label)-1] == '.' {
		label = label[:len(label)-1]
		if label == "" || name == v.ns || label == hostLabel || strings.HasSuffix(label, "."+hostLabel) {
			return nil, 0
		}
		if sys, ok := v.src.SystemByName(label); ok && sys.Name == label && addressable(sys, name) {
			return sys, dns.TypeA
		}
		if sys, ok := v.src.SystemByHostname(name[:len(name)-1]); ok && sys.Name != label && hostnameIs(sys, name) && addressable(sys, name) {
			return sys, dns.TypeA
		}
		return nil, 0
	}
	ip, ok := ptrAddr(name)
	if !ok || !v.inReverse(name) {
		return nil, 0
	}
	if sys, ok := v.src.SystemByIP(ip); ok && ipv4(sys) == ip && validHostname(sys.Hostname) {
		return sys, dns.TypePTR
	}
	return nil, 0
}

// addressable reports whether sys may have an A record at name: an IPv4
// address and a name that can be served.
func addressable(sys *registry.System, name string) bool {
	return ipv4(sys).IsValid() && validName(name)
}

// ipv4 returns the system's IPv4 address, or the zero Addr.
func ipv4(sys *registry.System) netip.Addr {
	if ip, err := netip.ParseAddr(sys.IP); err == nil && ip.Is4() {
		return ip
	}
	return netip.Addr{}
}

// hostnameIs reports whether the system's hostname is name (a lowercase
// FQDN).
func hostnameIs(sys *registry.System, name string) bool {
	h := sys.Hostname
	if len(h) == len(name)-1 && strings.HasPrefix(name, h) { // the registry's spelling
		return true
	}
	return canonicalName(h) == name
}

// inReverse reports whether name is below a reverse zone's apex (and in
// no zone of the origin).
func (v *hostView) inReverse(name string) bool {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if v.apexes[name[off:]] {
			return name[off:] != v.origin
		}
	}
	return false
}

// ptrAddr returns the address of a 4-octet in-addr.arpa name written as
// reverseName writes it.
func ptrAddr(name string) (ip netip.Addr, ok bool) {
	const arpa = "in-addr.arpa."
	if !strings.HasSuffix(name, arpa) {
		return ip, false
	}
	var a [4]byte
	rest := name
	for i := 3; i >= 0; i-- {
		dot := strings.IndexByte(rest, '.')
		if dot <= 0 {
			return ip, false
		}
		n, err := strconv.ParseUint(rest[:dot], 10, 8)
		if err != nil || strconv.FormatUint(n, 10) != rest[:dot] {
			return ip, false
		}
		a[i] = byte(n)
		rest = rest[dot+1:]
	}
	if rest != arpa {
		return ip, false
	}
	return netip.AddrFrom4(a), true
}

// addrNames returns the names where sys may have an A or PTR record:
// NAME.ORIGIN, its hostname and its address's reverse name.
func (v *hostView) addrNames(sys *registry.System) []string {
	names := make([]string, 0, 3)
	own := canonicalName(sys.Name + "." + v.origin)
	names = append(names, own)
	if h := canonicalName(sys.Hostname); h != own && strings.HasSuffix(h, "."+v.origin) {
		names = append(names, h)
	}
	if ip := ipv4(sys); ip.IsValid() {
		names = append(names, ptrName(ip))
	}
	return names
}

// addrRR returns the record the view serves at name, or nil.
func (v *hostView) addrRR(name string) dns.RR {
	sys, t := v.addrOwner(name)
	if sys == nil {
		return nil
	}
	hdr := dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: v.ttl}
	if t == dns.TypeA {
		return &dns.A{Hdr: hdr, A: ipv4(sys).AsSlice()}
	}
	return &dns.PTR{Hdr: hdr, Ptr: canonicalName(sys.Hostname)}
}

// withAddr returns n, the node stored at name (or nil), with the record
// the view serves there, when there is one and n holds no record of its
// type: a new node then. Otherwise it returns n.
func (v *hostView) withAddr(name string, n *node) *node {
	rr := v.addrRR(name)
	if rr == nil || (n != nil && n.get(rr.Header().Rrtype) != nil) {
		return n
	}
	m := &node{} // made for the asking: in no nodeMap, no hash
	if n != nil {
		m = n.copy()
	}
	m.owned = true
	m.add(rr)
	return m
}

// hold counts a name the view serves among the kids of its parent, when
// that is not an apex: the parent, an empty non-terminal, then exists.
func (b *builder) hold(name string) {
	off, end := dns.NextLabel(name, 0)
	if end {
		return
	}
	if parent := name[off:]; !b.z.isApex(parent) {
		b.node(parent).kids++
	}
}

// release takes a name the view served out of its parent's kids, and the
// empty non-terminals it leaves with nothing below them.
func (b *builder) release(name string) {
	off, end := dns.NextLabel(name, 0)
	if end {
		return
	}
	name = name[off:]
	for !b.z.isApex(name) {
		n := b.node(name)
		n.kids--
		if len(n.sets) > 0 || n.kids > 0 {
			return
		}
		b.z.nodes.del(name)
		if off, end = dns.NextLabel(name, 0); end {
			return
		}
		name = name[off:]
	}
}

// viewed reports whether the view serves sys's record of type t at name
// in the zone being built: it would, and no record of that type is
// stored there.
func (b *builder) viewed(sys *registry.System, name string, t uint16) bool {
	o, ot := b.z.hosts.addrOwner(name)
	if o != sys || ot != t {
		return false
	}
	n := b.z.nodes.get(name)
	return n == nil || n.get(t) == nil
}
