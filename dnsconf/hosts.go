package dnsconf

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// The hosts' own records, profile.NAME._host.ORIGIN and KEY.NAME._host.
// ORIGIN for each effective setting, are most of a fleet's zone (nine of
// eleven records a system with five settings) and are never stored in it
// as records: they are a view of the Snapshot the zone was built from,
// made when a query or data.cdb needs them. The registry owns the whole
// _host subtree (no static record, hostname or setting key may stand in
// it), so nothing else can stand at those names and the view needs no
// clash rules: a name below _host.ORIGIN is NAME._host.ORIGIN (an empty
// non-terminal while the system has a record) or KEY.NAME._host.ORIGIN.

// hostSource is a Source that finds a system by name, IP and hostname
// (*registry.Snapshot does); BuildZone indexes the others.
type hostSource interface {
	Source
	SystemByName(name string) (*registry.System, bool)
	SystemByIP(ip netip.Addr) (*registry.System, bool)
	SystemByHostname(hostname string) (*registry.System, bool)
}

// indexedSource gives a Source without them those lookups; where two
// systems share an IP or a hostname, the first in Systems' order.
type indexedSource struct {
	Source
	byName     map[string]*registry.System
	byIP       map[netip.Addr]*registry.System
	byHostname map[string]*registry.System
}

func (s indexedSource) SystemByName(name string) (*registry.System, bool) {
	sys, ok := s.byName[name]
	return sys, ok
}

func (s indexedSource) SystemByIP(ip netip.Addr) (*registry.System, bool) {
	sys, ok := s.byIP[ip]
	return sys, ok
}

func (s indexedSource) SystemByHostname(hostname string) (*registry.System, bool) {
	sys, ok := s.byHostname[hostname]
	return sys, ok
}

func hostSourceOf(src Source, systems []*registry.System) hostSource {
	if hs, ok := src.(hostSource); ok {
		return hs
	}
	idx := indexedSource{Source: src, byName: make(map[string]*registry.System, len(systems)),
		byIP: map[netip.Addr]*registry.System{}, byHostname: map[string]*registry.System{}}
	for _, sys := range systems {
		idx.byName[sys.Name] = sys
		if ip, err := netip.ParseAddr(sys.IP); err == nil && idx.byIP[ip] == nil {
			idx.byIP[ip] = sys
		}
		if idx.byHostname[sys.Hostname] == nil {
			idx.byHostname[sys.Hostname] = sys
		}
	}
	return idx
}

// hostView is a version's _host subtree, and the A and PTR records of
// its systems that the build left to it (addrs.go): the Source it is made
// from, and what makes its names and records. The zone of the version
// holds it, and so do the data.cdb parts it writes, until they are
// encoded.
type hostView struct {
	src    hostSource
	origin string
	ttl    uint32
	// addrs: the view serves the systems' A and PTR records that the
	// build left to it; false when a build found it could not (addrs.go).
	addrs  bool
	ns     string          // ns.ORIGIN, the name server's: never a system's
	apexes map[string]bool // the zone's apexes (the same in every version of a build)
}

// recs returns the records of sys.
func (v *hostView) recs(sys *registry.System) []hostRec {
	recs, _ := hostRecords(sys, v.src.EffectiveSettings(sys), v.origin)
	return recs
}

// system returns the system whose subtree holds name, a lowercase FQDN
// below _host.ORIGIN (NAME._host.ORIGIN or a name below it); found is
// false when there is none, in is false when name is not below
// _host.ORIGIN.
func (v *hostView) system(name string) (sys *registry.System, found, in bool) {
	top := "." + hostLabel + "." + v.origin
	if !strings.HasSuffix(name, top) {
		return nil, false, false
	}
	rest := name[:len(name)-len(top)]
	sys, found = v.src.SystemByName(rest[strings.LastIndexByte(rest, '.')+1:])
	return sys, found, true
}

// records returns the records at name.
func (v *hostView) records(name string) []hostRec {
	sys, found, _ := v.system(name)
	if !found {
		return nil
	}
	var out []hostRec
	for _, r := range v.recs(sys) {
		if r.name == name {
			out = append(out, r)
		}
	}
	return out
}

// hostRec is one TXT record of a host: its owner (a lowercase FQDN) and
// its value.
type hostRec struct {
	name, value string
}

// hostRecords returns the TXT records of sys under NAME._host.ORIGIN in
// name order (records of one name in the order of their keys), and what
// it has to leave out. A setting named "profile" would hide the profile
// record, so it is left out.
func hostRecords(sys *registry.System, settings map[string]string, origin string) ([]hostRec, []error) {
	base := "." + sys.Name + "." + hostLabel + "." + origin
	recs := make([]hostRec, 0, len(settings)+1)
	var problems []error
	add := func(what, key, value string) {
		name := canonicalName(key + base)
		switch {
		case !validName(name):
			problems = append(problems, fmt.Errorf("dnsconf: %s: %s is not a valid DNS name (too long?)", what, name))
		case len(value) > MaxTXTValue:
			problems = append(problems, fmt.Errorf("dnsconf: %s: value of %d bytes does not fit in a DNS message (limit %d)", what, len(value), MaxTXTValue))
		default:
			recs = append(recs, hostRec{name, value})
		}
	}
	add("system "+sys.Name+": profile", profileKey, sys.Profile)
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		what := "system " + sys.Name + ": setting " + k
		if k == profileKey {
			problems = append(problems, fmt.Errorf("dnsconf: %s: the name is taken by the profile record", what))
			continue
		}
		add(what, k, settings[k])
	}
	slices.SortStableFunc(recs, func(a, b hostRec) int { return strings.Compare(a.name, b.name) })
	return recs, problems
}

// plainName reports whether name (a lowercase FQDN) is a valid DNS name
// of the kind the registry makes: labels of 1 to 63 letters, digits, '-'
// and '_', at most 255 bytes on the wire. It is validName without
// packing the name, and false for any other name (validName decides).
func plainName(name string) bool {
	return len(name)+1 <= maxNameWire && strings.HasSuffix(name, ".") && plainLabels(name[:len(name)-1])
}

// plainLabels reports whether s is labels of 1 to 63 letters, digits,
// '-' and '_' joined by dots.
func plainLabels(s string) bool {
	label := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if label == 0 || label > 63 {
				return false
			}
			label = 0
			continue
		}
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			label++
		default:
			return false
		}
	}
	return true
}

// layeredSource is a Source that gives a system's effective settings as
// the two maps they are made of (*registry.Snapshot does), so that a
// build counts them without merging them.
type layeredSource interface {
	SettingLayers(sys *registry.System) (profile, own map[string]string)
}

// tally returns how many records the system has under NAME._host.ORIGIN
// and about how many names they make (hostNodeCount), and what had to be
// left out. It lists the records when list is set or some had to be.
func (v *hostView) tally(sys *registry.System, list bool) (n, nodes int, recs []hostRec, problems []error) {
	var settings map[string]string
	if !list {
		if ls, ok := v.src.(layeredSource); ok {
			profile, own := ls.SettingLayers(sys)
			if n, nodes, ok := hostCount(sys, profile, own, v.origin); ok {
				return n, nodes, nil, nil
			}
		} else {
			settings = v.src.EffectiveSettings(sys)
			if n, nodes, ok := hostCount(sys, nil, settings, v.origin); ok {
				return n, nodes, nil, nil
			}
		}
	}
	if settings == nil {
		settings = v.src.EffectiveSettings(sys)
	}
	recs, problems = hostRecords(sys, settings, v.origin)
	if len(recs) > 0 {
		n, nodes = len(recs), hostNodeCount(recs, sys.Name+"."+hostLabel+"."+v.origin)
	}
	return n, nodes, recs, problems
}

// hostCount counts the records of sys under NAME._host.ORIGIN, and about
// the names they make (hostNodeCount), without making them, when every
// one can be served (plain keys and names, values that fit); ok is
// false otherwise, and hostRecords tells which and why. The settings
// are profile's overridden by own's.
func hostCount(sys *registry.System, profile, own map[string]string, origin string) (recs, nodes int, ok bool) {
	base := len(sys.Name) + 1 + len(hostLabel) + 1 + len(origin) // NAME._host.ORIGIN
	fits := func(key, value string) bool {
		return len(value) <= MaxTXTValue && len(key)+1+base+1 <= maxNameWire && plainLabels(key)
	}
	if !plainLabels(sys.Name) || !plainName(origin) || !fits(profileKey, sys.Profile) {
		return 0, 0, false
	}
	recs, nodes = 1, 2 // profile.NAME._host.ORIGIN; it and NAME._host.ORIGIN
	for k, v := range profile {
		if _, over := own[k]; over {
			continue
		}
		if k == profileKey || !fits(k, v) {
			return 0, 0, false
		}
		recs, nodes = recs+1, nodes+1+strings.Count(k, ".")
	}
	for k, v := range own {
		if k == profileKey || !fits(k, v) {
			return 0, 0, false
		}
		recs, nodes = recs+1, nodes+1+strings.Count(k, ".")
	}
	return recs, nodes, true
}

// validHostname is validName of the hostname as a lowercase FQDN, made
// only when it is not plain.
func validHostname(h string) bool {
	if len(h)+2 <= maxNameWire && plainLabels(h) {
		return true
	}
	return validName(canonicalName(h))
}

// hostNodeCount is about how many names the records of a system make:
// NAME._host.ORIGIN (base) and one per label of each key below it (the
// empty non-terminals that keys share are counted for each).
func hostNodeCount(recs []hostRec, base string) int {
	if len(recs) == 0 {
		return 0
	}
	n := 1
	for _, r := range recs {
		n += strings.Count(r.name[:len(r.name)-len(base)], ".")
	}
	return n
}

// hostNode returns the node of name (a lowercase FQDN) in the _host
// subtree, made for the asking; nil when the name does not exist. ok is
// false when name is not in the subtree.
func (z *Zone) hostNode(name string) (n *node, ok bool) {
	if z.hosts == nil {
		return nil, false
	}
	if name == hostLabel+"."+z.origin {
		if z.hostNodes == 0 {
			return nil, true
		}
		return &node{hash: nameHash(name), owned: true}, true
	}
	sys, found, in := z.hosts.system(name)
	if !found {
		return nil, in
	}
	recs := z.hosts.recs(sys)
	n = &node{hash: nameHash(name), owned: true}
	exists := false
	for _, r := range recs {
		switch {
		case r.name == name:
			n.add(z.hostTXT(r))
			exists = true
		case strings.HasSuffix(r.name, "."+name):
			exists = true
		}
	}
	if !exists {
		return nil, true
	}
	return n, true
}

// hostTXT is the TXT record of r.
func (z *Zone) hostTXT(r hostRec) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: r.name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: z.opts.ttl()}, Txt: SplitTXT(r.value)}
}

// appendHostRecord appends r as data.cdb records make it (klen, dlen,
// key, data: what node.encode makes of its TXT record) without a
// dns.RR: the owner in wire format as the key, then type, '=', TTL, no
// timestamp, and the value in character-strings of at most 255 bytes.
func appendHostRecord(b []byte, r hostRec, ttl uint32) []byte {
	var wire [maxNameWire + 2]byte
	klen, err := dns.PackDomainName(r.name, wire[:], 0, nil, false)
	if err != nil {
		panic("dnsconf: host record " + r.name + ": " + err.Error()) // hostRecords kept valid names only
	}
	rdlen := len(r.value) + max(1, (len(r.value)+maxCharString-1)/maxCharString)
	b = binary.LittleEndian.AppendUint32(b, uint32(klen))
	b = binary.LittleEndian.AppendUint32(b, uint32(2+1+4+8+rdlen))
	b = append(b, wire[:klen]...)
	b = binary.BigEndian.AppendUint16(b, dns.TypeTXT)
	b = append(b, '=')
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	v := r.value
	for {
		n := min(len(v), maxCharString)
		b = append(append(b, byte(n)), v[:n]...)
		if v = v[n:]; v == "" {
			return b
		}
	}
}

// node returns the node of name (a lowercase FQDN): the zone's, or one
// of the _host subtree made for the asking. Nodes are read-only.
func (z *Zone) node(name string) *node {
	if n, ok := z.hostNode(name); ok {
		return n
	}
	return z.hosts.withAddr(name, z.nodes.get(name))
}
