package dnsconf

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// apexes creates the origin and the reverse zones of the subnets, each
// with its SOA and NS, and the name server's address.
func (b *builder) apexes(subnets []*registry.Subnet, opts Options) {
	origin := b.z.origin
	b.z.order = []string{origin}
	var rev []string
	for _, sub := range subnets {
		p, err := netip.ParsePrefix(sub.CIDR)
		if err != nil || !p.Addr().Is4() {
			b.problem("subnet %s: cidr %q is not an IPv4 prefix: no reverse zone", sub.Name, sub.CIDR)
			continue
		}
		rev = append(rev, reverseZones(p)...)
	}
	slices.SortFunc(rev, compareNames)
	b.z.order = append(b.z.order, slices.Compact(rev)...)
	ns := nsLabel + "." + origin
	for _, name := range b.z.order {
		soa := &dns.SOA{Hdr: b.hdr(name, dns.TypeSOA), Ns: ns, Mbox: "hostmaster." + origin,
			Serial: opts.SerialBase + uint32(opts.Serial), Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: b.ttl}
		b.z.apexes[name] = &apex{soa: soa}
		b.add(soa)
		b.add(&dns.NS{Hdr: b.hdr(name, dns.TypeNS), Ns: ns})
	}
	if opts.NS.Is4() {
		b.add(&dns.A{Hdr: b.hdr(ns, dns.TypeA), A: opts.NS.AsSlice()})
	} else {
		b.add(&dns.AAAA{Hdr: b.hdr(ns, dns.TypeAAAA), AAAA: opts.NS.AsSlice()})
	}
}

// reverseZones returns the in-addr.arpa zones (RFC 1035 3.5) that cover
// p. Zones fall on octet boundaries, so a /22 gives four /24 zones, a /12
// sixteen /16 zones, and a prefix longer than /24 the whole /24 that
// holds it (the appliance then answers for all of that /24).
func reverseZones(p netip.Prefix) []string {
	bits := max(8, min(24, (p.Bits()+7)/8*8))
	n := 1
	if bits > p.Bits() {
		n = 1 << (bits - p.Bits())
	}
	a4 := p.Masked().Addr().As4()
	base := uint32(a4[0])<<24 | uint32(a4[1])<<16 | uint32(a4[2])<<8 | uint32(a4[3])
	if bits < p.Bits() {
		base &^= 1<<(32-bits) - 1
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, reverseName(base+uint32(i)<<(32-bits), bits/8))
	}
	return out
}

// reverseName writes the first octets of a as an in-addr.arpa name:
// 10.0.0.11 with 4 octets is "11.0.0.10.in-addr.arpa.".
func reverseName(a uint32, octets int) string {
	buf := make([]byte, 0, 30)
	for i := octets - 1; i >= 0; i-- {
		buf = strconv.AppendUint(buf, uint64(a>>(24-8*i)&0xff), 10)
		buf = append(buf, '.')
	}
	return string(append(buf, "in-addr.arpa."...))
}

// ptrName is the reverse name of an IPv4 address.
func ptrName(ip netip.Addr) string {
	a := ip.As4()
	return reverseName(uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]), 4)
}

// compareNames orders names canonically (RFC 4034 6.1): by their labels
// from the right, each compared as lowercase bytes.
func compareNames(a, b string) int { return strings.Compare(sortKey(a), sortKey(b)) }

// sortKey turns a name into a string whose byte order is the canonical
// order: labels reversed, separated by a byte below any label byte.
func sortKey(name string) string {
	labels := dns.SplitDomainName(strings.ToLower(name))
	slices.Reverse(labels)
	return strings.Join(labels, "\x00")
}
