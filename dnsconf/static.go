package dnsconf

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// ErrClash is wrapped by the problems of static records whose name is
// owned by the registry.
var ErrClash = errors.New("name owned by the registry")

// static adds the operator's records that pass checkStatic; the others
// are listed in Zone.Problems. Registry records were added before, so the
// registry always wins a clash.
func (b *builder) static(rrs []dns.RR) {
	for _, rr := range rrs {
		if err := b.z.checkStatic(rr); err != nil {
			b.problemErr(err)
			// Refused at a name the registry holds: a change to what
			// it holds may let it in.
			b.z.fragile = b.z.fragile || b.z.node(canonicalName(rr.Header().Name)) != nil
			continue
		}
		rr = dns.Copy(rr)
		rr.Header().Name = canonicalName(rr.Header().Name)
		if !b.z.hasDuplicate(rr) {
			b.add(rr)
		}
	}
}

// Clashes returns the owner names (lowercase, sorted, once each) of the
// static records that clash with names the registry owns in z: the
// origin's SOA and NS (other records may stand at an apex), ns.ORIGIN, every name holding registry records (systems,
// settings, reverse zones and their PTR records) and everything under
// _host.ORIGIN. BuildZone refuses such records.
func (z *Zone) Clashes(static []dns.RR) []string {
	var out []string
	for _, rr := range static {
		if name := canonicalName(rr.Header().Name); z.owned(name) && !z.isApex(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// owned reports whether the registry owns name.
func (z *Zone) owned(name string) bool {
	if n := z.nodes.get(name); n != nil && n.owned {
		return true
	}
	if sys, _ := z.hosts.addrOwner(name); sys != nil {
		return true
	}
	return dns.IsSubDomain(hostLabel+"."+z.origin, name)
}

// CheckStatic says why a static record cannot be added to z (it is at a
// name the registry owns, outside the zones, a delegation...), or nil.
func (z *Zone) CheckStatic(rr dns.RR) error { return z.checkStatic(rr) }

// checkStatic says why a static record cannot be added to z, if it can't.
func (z *Zone) checkStatic(rr dns.RR) error {
	if rr == nil {
		return errors.New("dnsconf: static record: nil")
	}
	h := rr.Header()
	name := canonicalName(h.Name)
	refuse := func(why string) error { return fmt.Errorf("dnsconf: static record %s: %s", rr, why) }
	switch t := h.Rrtype; {
	case h.Class != dns.ClassINET:
		return refuse("class must be IN")
	case t == dns.TypeSOA || t == dns.TypeNS || t == dns.TypeDNAME:
		return refuse("SOA, NS and DNAME records belong to the registry (no delegations)")
	case t == dns.TypeOPT || t == dns.TypeTSIG || t == dns.TypeANY || t == dns.TypeAXFR || t == dns.TypeIXFR:
		return refuse("not a data record")
	case !validName(name):
		return refuse("not a valid DNS name")
	case z.apexOf(name) == nil:
		return refuse("outside the zone " + z.origin + " and its reverse zones")
	case strings.HasPrefix(name, "*."):
		return refuse("wildcards are not served")
	case z.owned(name) && !z.isApex(name):
		return fmt.Errorf("dnsconf: static record %s: %w", rr, ErrClash)
	}
	return z.checkCNAME(rr, name)
}

// checkCNAME: a CNAME stands alone at its name (RFC 1034 3.6.2).
func (z *Zone) checkCNAME(rr dns.RR, name string) error {
	n := z.node(name)
	if n == nil {
		return nil
	}
	isCNAME := rr.Header().Rrtype == dns.TypeCNAME
	hasCNAME := n.get(dns.TypeCNAME) != nil
	if (isCNAME && len(n.sets) > 0 && !hasCNAME) || (!isCNAME && hasCNAME) || (isCNAME && hasCNAME && !z.hasDuplicate(rr)) {
		return fmt.Errorf("dnsconf: static record %s: a CNAME cannot share its name with other records", rr)
	}
	return nil
}

// hasDuplicate reports whether z already holds rr (RFC 2181 5: an RRset
// has no duplicates).
func (z *Zone) hasDuplicate(rr dns.RR) bool {
	n := z.node(canonicalName(rr.Header().Name))
	if n == nil {
		return false
	}
	for _, o := range n.get(rr.Header().Rrtype) {
		if dns.IsDuplicate(o, rr) {
			return true
		}
	}
	return false
}

// isApex reports whether name is a zone apex. The registry owns only the
// SOA and NS there, so other records (MX, SPF TXT...) may be added.
func (z *Zone) isApex(name string) bool {
	_, ok := z.apexes[name]
	return ok
}
