package dnsconf

import (
	"maps"
	"slices"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// changeSource is a Source that tells what changed since an earlier
// version (*registry.Snapshot does), so that a zone can be changed
// rather than built again.
type changeSource interface {
	hostSource
	ChangedSince(prev *registry.Snapshot) (registry.Changes, bool)
	Setting(key string) (string, bool)
	SystemsOf(profile string) []string
}

// update returns the zone of src at opts.Serial made from z, the zone of
// an earlier version of src, by taking out what the changed systems and
// settings put in z and putting in what they hold now: the cost is that
// of the change, not of the zone. It returns false when it cannot: src
// does not say what changed, subnets or static records changed, or the
// change touches a name that two records claim (then only a whole build,
// in its order, decides which one the zone serves).
func (z *Zone) update(src Source, opts Options) (*Zone, bool) {
	cs, ok := src.(changeSource)
	if !ok || z.fragile || !sameOptions(z.opts, opts) {
		return nil, false
	}
	ch, ok := cs.ChangedSince(z.snap)
	if !ok {
		return nil, false
	}
	systems := map[string]bool{}
	for kind, names := range ch {
		switch kind {
		case registry.ObjSystem:
			maps.Copy(systems, names)
		case registry.ObjProfile: // its settings are its systems'
			for p := range names {
				for _, s := range cs.SystemsOf(p) {
					systems[s] = true
				}
			}
		case registry.ObjSetting, registry.ObjImage, registry.ObjTemplate:
		case registry.ObjSecretSetting: // in no record
		default: // subnets (the reverse zones), static records
			return nil, false
		}
	}
	b := &builder{z: z.next(src, opts), ttl: opts.ttl(), owned: true, mine: map[*node]bool{}, incremental: true, prev: z, changed: systems}
	b.serial(opts)
	settings := slices.Sorted(maps.Keys(ch[registry.ObjSetting]))
	sysNames := slices.Sorted(maps.Keys(systems))
	for _, name := range sysNames {
		b.takeOut(systemKey(name))
		b.takeOutViews(z, name)
	}
	for _, k := range settings {
		b.takeOut(settingKey(k))
	}
	for _, name := range sysNames {
		if sys, ok := cs.SystemByName(name); ok {
			b.system(sys)
		}
	}
	for _, k := range settings {
		if v, ok := cs.Setting(k); ok {
			b.setting(k, v)
		}
	}
	if b.clash {
		return nil, false
	}
	return b.z, true
}

// next is a copy of z to change into the version of opts.Serial.
func (z *Zone) next(src Source, opts Options) *Zone {
	// update's src is a changeSource, and a hostSource
	view := &hostView{src: src.(hostSource), origin: z.origin, ttl: opts.ttl(), addrs: z.hosts.addrs, ns: z.hosts.ns, apexes: z.hosts.apexes}
	return &Zone{
		origin: z.origin, serial: opts.Serial, inst: opts.Instance, opts: opts, snap: snapshotOf(src), hosts: view,
		apexes: maps.Clone(z.apexes), order: z.order, size: z.size, hostNodes: z.hostNodes, addrNodes: z.addrNodes,
		nodes:    z.nodes.clone(view),
		contribs: z.contribs.Clone(), head: z.head, tail: z.tail, nproblems: z.nproblems,
	}
}

// serial gives every apex the SOA of the new serial.
func (b *builder) serial(opts Options) {
	for name, a := range b.z.apexes {
		soa := dns.Copy(a.soa).(*dns.SOA)
		soa.Serial = opts.SerialBase + uint32(opts.Serial)
		n := b.node(name)
		n.remove(a.soa)
		n.add(soa)
		b.z.apexes[name] = &apex{soa: soa}
	}
}

// takeOut removes what the system or setting of key put in the zone.
func (b *builder) takeOut(key string) {
	c, ok := b.z.contribs.Get(key)
	if !ok {
		return
	}
	for _, rr := range c.rrs {
		b.remove(rr)
	}
	b.z.nproblems -= len(c.problems)
	b.z.contribs.Delete(key)
}

// sameOptions reports whether a and b build the same zone but for the
// serial.
func sameOptions(a, b Options) bool {
	return a.Origin == b.Origin && a.SerialBase == b.SerialBase && a.Instance == b.Instance && a.NS == b.NS &&
		a.TTL == b.TTL && len(a.Static) == len(b.Static) && (len(a.Static) == 0 || &a.Static[0] == &b.Static[0])
}

// snapshotOf is src when it is a registry Snapshot (what a later version
// tells its changes since), else nil.
func snapshotOf(src Source) *registry.Snapshot {
	s, _ := src.(*registry.Snapshot)
	return s
}
