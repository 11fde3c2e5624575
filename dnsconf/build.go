package dnsconf

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/miekg/dns"
	"github.com/provision/provision/internal/cow"
	"github.com/provision/provision/registry"
)

// builder fills a Zone; it is the only code that writes to one. It
// writes only the nodes it made or copied (mine): the others are shared
// with the Zone it started from.
type builder struct {
	z     *Zone
	ttl   uint32
	owned bool // the records being added come from the registry
	// The system ('1') or setting ('2') being added, by name, and what
	// it put in the zone that a change must take out (contrib): made at
	// its first record stored or problem, so that most systems have none.
	curKind byte
	curName string
	cur     *contrib
	tail    bool // problems now are the static records'
	mine    map[*node]bool
	// incremental: the builder changes a zone (Zone.update) instead of
	// making one; then a name already held (clash) means it must give
	// up, as only a whole build decides who wins.
	incremental bool
	clash       bool
	// In a change: the zone it is made from, and the systems it changes.
	prev    *Zone
	changed map[string]bool
}

// BuildZone makes the Zone of a registry snapshot: SOA and NS records of
// the origin and of the reverse zones of the subnets, A and PTR records
// of the systems, TXT records of the settings, then opts.Static. It fails
// only on bad Options; what it has to leave out is listed in
// Zone.Problems. 10,000 systems take under 0.1 s (BenchmarkBuildZone).
func BuildZone(src Source, opts Options) (*Zone, error) {
	if src == nil {
		return nil, errors.New("dnsconf: BuildZone needs a Source")
	}
	origin, err := opts.origin()
	if err != nil {
		return nil, err
	}
	systems := src.Systems()
	hosts := hostSourceOf(src, systems)
	view := &hostView{src: hosts, origin: origin, ttl: opts.ttl()}
	b := &builder{
		z: &Zone{
			origin:   origin,
			serial:   opts.Serial,
			inst:     opts.Instance,
			opts:     opts,
			snap:     snapshotOf(src),
			hosts:    view,
			apexes:   map[string]*apex{},
			nodes:    newNodeMap(64+len(systems)/64, view, systems), // the view makes most names
			contribs: cow.New[string, *contrib](),
		},
		ttl:   opts.ttl(),
		owned: true,
		mine:  map[*node]bool{},
	}
	b.apexes(src.Subnets(), opts)
	view.addrs, view.ns, view.apexes = true, nsLabel+"."+origin, map[string]bool{}
	for name := range b.z.apexes {
		view.apexes[name] = true
	}
	b.systems(systems)
	b.globalSettings(src.Settings())
	b.owned, b.tail = false, true
	b.static(opts.Static)
	if rs, ok := src.(recordSource); ok {
		b.static(b.parseStatic(rs.Records()))
	}
	return b.z, nil
}

// recordSource is a Source that also holds static records in zone-file
// text (*registry.Snapshot does).
type recordSource interface {
	Records() []string
}

func (b *builder) parseStatic(texts []string) []dns.RR {
	out := make([]dns.RR, 0, len(texts))
	for _, t := range texts {
		rr, err := dns.NewRR(t)
		if err != nil || rr == nil {
			b.problem("static record %q: %v", t, err)
			continue
		}
		out = append(out, rr)
	}
	return out
}

func (b *builder) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: b.ttl}
}

func (b *builder) problem(format string, args ...any) {
	b.problemErr(fmt.Errorf("dnsconf: "+format, args...))
}

// problemErr lists err with the system or setting being added, or with
// the zone's own.
func (b *builder) problemErr(err error) {
	switch {
	case b.curKind != 0:
		c := b.contribution()
		c.problems = append(c.problems, err)
	case b.tail:
		b.z.tail = append(b.z.tail, err)
	default:
		b.z.head = append(b.z.head, err)
	}
	b.z.nproblems++
}

// begin starts recording what the system ('1') or setting ('2') name
// adds, end stops.
func (b *builder) begin(kind byte, name string) { b.curKind, b.curName, b.cur = kind, name, nil }
func (b *builder) end()                         { b.curKind, b.curName, b.cur = 0, "", nil }

// contribution returns the contrib of what is being added, made and
// listed at its first use.
func (b *builder) contribution() *contrib {
	if b.cur == nil {
		b.cur = &contrib{}
		b.z.contribs.Set(string(b.curKind)+b.curName, b.cur)
	}
	return b.cur
}

// add puts rr in the zone; its owner must be a lowercase FQDN at or below
// an apex.
func (b *builder) add(rr dns.RR) {
	n := b.node(rr.Header().Name)
	n.add(rr)
	n.owned = n.owned || b.owned
	b.z.size++
	if b.curKind != 0 {
		c := b.contribution()
		c.rrs = append(c.rrs, rr)
	}
}

// node returns the node of name, writable, creating it and the empty
// non-terminals between it and its apex.
func (b *builder) node(name string) *node {
	n := b.z.nodes.get(name)
	switch {
	case n != nil && (!b.incremental || b.mine[n]): // a whole build makes every node
		return n
	case n != nil:
		n = n.copy()
		b.z.nodes.set(name, n)
		b.mine[n] = true
		return n
	}
	n = &node{hash: nameHash(name)}
	b.z.nodes.set(name, n)
	if b.incremental {
		b.mine[n] = true
	}
	if _, isApex := b.z.apexes[name]; !isApex {
		if off, end := dns.NextLabel(name, 0); !end {
			b.node(name[off:]).kids++
		}
	}
	return n
}

// remove takes rr, which an earlier version added, out of the zone, and
// the empty non-terminals it leaves with nothing below them.
func (b *builder) remove(rr dns.RR) {
	name := rr.Header().Name
	n := b.node(name)
	if !n.remove(rr) {
		return
	}
	b.z.size--
	for len(n.sets) == 0 && n.kids == 0 {
		if _, isApex := b.z.apexes[name]; isApex {
			return
		}
		b.z.nodes.del(name)
		off, end := dns.NextLabel(name, 0)
		if end {
			return
		}
		name = name[off:]
		n = b.node(name)
		n.kids--
	}
	if len(n.sets) == 0 {
		n.owned = false
	}
}

// free reports whether the registry may put a record of type t at name
// for system sys (nil for a setting): always in a whole build (which
// decides clashes itself, in order); in an incremental one only if
// nothing of type t, no static record and no other system's record the
// view serves is there, else it notes the clash and gives up.
func (b *builder) free(sys *registry.System, name string, t uint16) bool {
	if !b.incremental {
		return true
	}
	if n := b.z.nodes.get(name); n != nil && (n.get(t) != nil || (!n.owned && len(n.sets) > 0)) {
		b.clash = true
		return false
	}
	// Another system's record the view serves there, in this version
	// or (unless that system changes too) the one changed from.
	if o, ot := b.z.hosts.addrOwner(name); o != nil && ot == t && o != sys {
		b.clash = true
		return false
	}
	if o, ot := b.prev.hosts.addrOwner(name); o != nil && ot == t && !b.changed[o.Name] {
		b.clash = true
		return false
	}
	return true
}

// validName reports whether name (a FQDN) can be put on the wire: labels
// of at most 63 bytes, at most 255 bytes in all (RFC 1035 2.3.4).
func validName(name string) bool {
	if plainName(name) {
		return true
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return false
	}
	var wire [maxNameWire]byte // dns.IsDomainName lets 256 and 257 octets pass
	off, err := dns.PackDomainName(name, wire[:], 0, nil, false)
	return err == nil && off <= maxNameWire
}

// maxNameWire is the longest name on the wire (RFC 1035 2.3.4).
const maxNameWire = 255

// globalSettings publishes each global setting KEY at KEY.ORIGIN.
func (b *builder) globalSettings(settings map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		b.setting(k, settings[k])
	}
}

func (b *builder) setting(k, value string) {
	b.begin('2', k)
	defer b.end()
	name := canonicalName(k + "." + b.z.origin)
	if b.free(nil, name, dns.TypeTXT) {
		b.txt("setting "+k, name, value)
	}
}

// The keys of Zone.contribs.
func systemKey(name string) string { return "1" + name }
func settingKey(key string) string { return "2" + key }

// txt adds a TXT record holding value, unless it cannot be served.
func (b *builder) txt(what, name, value string) {
	switch {
	case !validName(name):
		b.problem("%s: %s is not a valid DNS name (too long?)", what, name)
	case len(value) > MaxTXTValue:
		b.problem("%s: value of %d bytes does not fit in a DNS message (limit %d)", what, len(value), MaxTXTValue)
	default:
		b.add(&dns.TXT{Hdr: b.hdr(name, dns.TypeTXT), Txt: SplitTXT(value)})
	}
}
