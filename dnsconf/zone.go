package dnsconf

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/provision/provision/internal/cow"
	"github.com/provision/provision/registry"
)

// Zone is the appliance's DNS data: the zone of the registry and the
// reverse zones of its subnets. A Zone is immutable once built and safe
// for concurrent use; the records it returns are shared and must not be
// modified.
type Zone struct {
	origin string             // lowercase FQDN, e.g. "dsas."
	serial uint64             // registry serial
	inst   string             // the registry database's identity (Options.Instance)
	opts   Options            // what it was built with
	snap   *registry.Snapshot // the Snapshot it was built from, if it was
	apexes map[string]*apex   // origin and reverse zones, by name
	order  []string           // apex names: origin first, then reverse zones in canonical order
	nodes  *nodeMap           // every name that exists but those the view makes, empty non-terminals included
	size   int                // records, the _host subtree's included
	// hosts is the view the _host subtree is made from (hosts.go), and
	// hostNodes the names it holds.
	hosts     *hostView
	hostNodes int
	addrNodes int // the A and PTR records the view serves (addrs.go)

	// What each system ("1"+name) and global setting ("2"+key) put in the
	// zone, so that a change takes out what the old version put in
	// (Zone.update), for those that stored a record or had a problem;
	// the problems of the apexes and of the static records.
	contribs  *cow.Map[string, *contrib]
	head      []error // problems of the subnets, before those of the systems
	tail      []error // problems of the static records, after
	nproblems int
	// fragile: what the registry put in the zone decided the fate of
	// another record (two systems claiming a name, a static record
	// refused at a name the registry holds): a change may turn it, so
	// the next version is built whole.
	fragile bool

	sorted struct {
		once sync.Once
		rrs  []dns.RR
	}
	cdb struct { // the zone as data.cdb (CDB)
		once sync.Once
		done atomic.Bool // file, at and err are set
		file *cdbFile
		at   time.Time
		err  error
	}
}

// apex is a zone cut: the names at and below it are answered with its SOA.
type apex struct {
	soa *dns.SOA // also the negative answer: its TTL equals MINIMUM (RFC 2308 3)
}

// contrib is what one system or setting put in the zone that a change
// must take out: the records stored and the problems. What the view
// serves is told again from the version a change is made from.
type contrib struct {
	rrs      []dns.RR
	problems []error
}

// node is one owner name. Nodes without sets are empty non-terminals:
// they exist (NODATA, RFC 8020) but hold nothing. A node in a published
// Zone is never modified: a new version copies the nodes it changes.
type node struct {
	sets  []rrset // sorted by type
	hash  uint32  // nameHash of its name
	kids  int32   // nodes directly below it
	owned bool    // holds records made from the registry
}

// copy returns a modifiable copy of n.
func (n *node) copy() *node {
	c := &node{owned: n.owned, hash: n.hash, kids: n.kids, sets: make([]rrset, len(n.sets))}
	for i, s := range n.sets {
		c.sets[i] = rrset{t: s.t, rrs: slices.Clone(s.rrs)}
	}
	return c
}

// remove takes rr (the record itself, not an equal one) out of n.
func (n *node) remove(rr dns.RR) bool {
	for i, s := range n.sets {
		if s.t != rr.Header().Rrtype {
			continue
		}
		j := slices.Index(s.rrs, rr)
		if j < 0 {
			return false
		}
		n.sets[i].rrs = slices.Delete(s.rrs, j, j+1)
		if len(n.sets[i].rrs) == 0 {
			n.sets = slices.Delete(n.sets, i, i+1)
		}
		return true
	}
	return false
}

// rrset is the records of one type at one name.
type rrset struct {
	t   uint16
	rrs []dns.RR
}

func (n *node) get(t uint16) []dns.RR {
	for _, s := range n.sets {
		if s.t == t {
			return s.rrs
		}
	}
	return nil
}

func (n *node) add(rr dns.RR) {
	t := rr.Header().Rrtype
	i, found := slices.BinarySearchFunc(n.sets, t, func(s rrset, t uint16) int { return int(s.t) - int(t) })
	if found {
		n.sets[i].rrs = append(n.sets[i].rrs, rr)
		return
	}
	n.sets = slices.Insert(n.sets, i, rrset{t: t, rrs: []dns.RR{rr}})
}

// all returns every record at the name, by type.
func (n *node) all() []dns.RR {
	var out []dns.RR
	for _, s := range n.sets {
		out = append(out, s.rrs...)
	}
	return out
}

// Origin returns the zone's name as a lowercase FQDN ("dsas.").
func (z *Zone) Origin() string { return z.origin }

// Serial returns the registry serial the zone was built from. The SOA
// serial is its low 32 bits.
func (z *Zone) Serial() uint64 { return z.serial }

// ETag is the entity tag of the zone's data.cdb: the database's identity
// and the serial, so that a new database does not repeat an old ETag.
func (z *Zone) ETag() string {
	if z.inst == "" {
		return `"` + strconv.FormatUint(z.serial, 10) + `"`
	}
	return `"` + z.inst + "-" + strconv.FormatUint(z.serial, 10) + `"`
}

// Apexes returns the zones served: the origin first, then the reverse
// zones (in-addr.arpa) of the subnets in canonical order.
func (z *Zone) Apexes() []string { return slices.Clone(z.order) }

// Len returns the number of records.
func (z *Zone) Len() int { return z.size }

// Problems lists what BuildZone left out and why: registry records that
// could not be served (a name too long, a value too large for DNS, two
// systems claiming one name) and refused static records (ErrClash and
// others).
func (z *Zone) Problems() []error {
	out := slices.Clone(z.head)
	if z.nproblems > len(z.head)+len(z.tail) {
		keys := slices.Sorted(z.contribs.Keys())
		for _, k := range keys {
			out = append(out, z.contribs.At(k).problems...)
		}
	}
	return append(out, z.tail...)
}

// ProblemCount returns len(Problems()) without making the list.
func (z *Zone) ProblemCount() int { return z.nproblems }

// Lookup returns the records of type qtype at name (case-insensitive).
func (z *Zone) Lookup(name string, qtype uint16) []dns.RR {
	n := z.node(canonicalName(name))
	if n == nil {
		return nil
	}
	return slices.Clone(n.get(qtype))
}

// apexOf returns the closest apex at or above name (a lowercase FQDN),
// or nil when the zone does not cover name.
func (z *Zone) apexOf(name string) *apex {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if a, ok := z.apexes[name[off:]]; ok {
			return a
		}
	}
	return nil
}

// apexNameOf is apexOf returning the apex's name.
func (z *Zone) apexNameOf(name string) (string, bool) {
	if a := z.apexOf(name); a != nil {
		return a.soa.Hdr.Name, true
	}
	return "", false
}

func canonicalName(name string) string { return dns.Fqdn(strings.ToLower(name)) }
