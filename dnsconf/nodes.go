package dnsconf

import (
	"iter"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/registry"
)

// nodeMap holds the nodes of a zone by name, in 256 groups chosen by the
// data.cdb hash of the name (its low 8 bits: the hash table of data.cdb
// the name's records go in), each of 16 parts (the next 4 bits). A part
// is encoded on its own (cdbPart), a group's hash table from its parts
// (cdbGroup), and a zone that changes a few names encodes a few of each.
// Groups and parts are copy-on-write: clone copies the table of groups,
// the first write to a group after that copies the group (16 pointers),
// and the first write to a part copies the part (1/4096 of the names).
// A published nodeMap is never written.
type nodeMap struct {
	owner  *byte // this version's identity: the groups and parts it may write carry it
	n      int
	groups [256]*group
	view   *hostView // the _host subtree of this version, for the parts it writes
}

type group struct {
	owner *byte
	parts [partsPerGroup]*part
	cdb   struct {
		once sync.Once
		enc  *cdbGroup
	}
}

const partsPerGroup = 16

type part struct {
	owner *byte
	nodes map[string]*node
	// A part copied from another (prev) notes the names it changes
	// (dirty), so that its data.cdb encoding is the other's with those
	// names changed; both are dropped once it is encoded.
	prev  *part
	dirty map[string]bool
	depth int // parts not yet encoded in the chain of prevs
	// The _host subtree's names are not nodes (hosts.go): a whole
	// build lists the records of the part's (virt), a change the names
	// (dirty), and view makes them; all three are dropped once encoded.
	// So are the A and PTR records the view serves (addrs.go) at names
	// that are not nodes: a whole build lists those names (addrs).
	virt  []hostRec
	addrs []string
	view  *hostView
	hosts *hostParts // a whole build's part: fills virt
	cdb   struct {
		once sync.Once
		enc  *cdbPart
		done atomic.Bool // enc is set
	}
}

// maxPartChain bounds the chain of parts not yet encoded: past it, a part
// is encoded from its nodes.
const maxPartChain = 32

// newNodeMap returns an empty nodeMap for about size nodes.
func newNodeMap(size int, view *hostView, systems []*registry.System) *nodeMap {
	m := &nodeMap{owner: new(byte), view: view}
	hosts := &hostParts{systems: systems, view: view, nodes: m}
	per := size / (len(m.groups) * partsPerGroup)
	for i := range m.groups {
		g := &group{owner: m.owner}
		for j := range g.parts {
			g.parts[j] = &part{owner: m.owner, nodes: make(map[string]*node, per+per/8), view: view, hosts: hosts}
		}
		m.groups[i] = g
	}
	return m
}

// clone returns the next version to write, of view; m must not be
// written after.
func (m *nodeMap) clone(view *hostView) *nodeMap {
	c := *m
	c.owner, c.view = new(byte), view
	return &c
}

func where(h uint32) (g, p uint32) { return h & 255, (h >> 8) % partsPerGroup }

func (m *nodeMap) get(name string) *node {
	g, p := where(nameHash(name))
	if m.groups[g] == nil || m.groups[g].parts[p] == nil {
		return nil
	}
	return m.groups[g].parts[p].nodes[name]
}

// own returns part p of group g, made this version's own first.
func (m *nodeMap) own(g, p uint32) *part {
	gr := m.groups[g]
	if gr == nil || gr.owner != m.owner {
		c := &group{owner: m.owner}
		if gr != nil {
			c.parts = gr.parts
		}
		gr, m.groups[g] = c, c
	}
	pt := gr.parts[p]
	if pt != nil && pt.owner == m.owner {
		return pt
	}
	c := &part{owner: m.owner, dirty: map[string]bool{}, view: m.view}
	if pt != nil {
		c.nodes = maps.Clone(pt.nodes)
		switch {
		case pt.cdb.done.Load():
			c.prev, c.depth = pt, 1
		case pt.depth < maxPartChain:
			c.prev, c.depth = pt, pt.depth+1
		}
	} else {
		c.nodes = map[string]*node{}
	}
	gr.parts[p] = c
	return c
}

func (m *nodeMap) set(name string, n *node) {
	pt := m.own(where(n.hash))
	if _, had := pt.nodes[name]; !had {
		m.n++
	}
	pt.nodes[name] = n
	if pt.dirty != nil {
		pt.dirty[name] = true
	}
}

func (m *nodeMap) del(name string) {
	if m.get(name) == nil {
		return
	}
	pt := m.own(where(nameHash(name)))
	delete(pt.nodes, name)
	if pt.dirty != nil {
		pt.dirty[name] = true
	}
	m.n--
}

// touch notes a name the view makes (the _host subtree, the A and PTR
// records of addrs.go) whose records a change (Zone.update) may have
// changed: they are made again when its part is encoded.
func (m *nodeMap) touch(name string) {
	m.own(where(nameHash(name))).dirty[name] = true
}

// hostParts is a whole build's records of the _host subtree, put in its
// parts (virt) when the first of them is encoded, and dropped with them.
type hostParts struct {
	once    sync.Once
	systems []*registry.System
	view    *hostView
	nodes   *nodeMap // the build's
}

// fill lists every record of the _host subtree in its part of the build,
// and every name that holds only an A or PTR record the view serves.
func (h *hostParts) fill() {
	h.once.Do(func() {
		for _, sys := range h.systems {
			for _, r := range h.view.recs(sys) {
				g, p := where(nameHash(r.name))
				pt := h.nodes.groups[g].parts[p]
				pt.virt = append(pt.virt, r)
			}
			for _, name := range h.view.addrNames(sys) {
				if o, _ := h.view.addrOwner(name); o != sys {
					continue
				}
				g, p := where(nameHash(name))
				if pt := h.nodes.groups[g].parts[p]; pt.nodes[name] == nil {
					pt.addrs = append(pt.addrs, name)
				}
			}
		}
		h.systems, h.view, h.nodes = nil, nil, nil
	})
}

// all yields every node, in no particular order.
func (m *nodeMap) all() iter.Seq2[string, *node] {
	return func(yield func(string, *node) bool) {
		for _, g := range m.groups {
			if g == nil {
				continue
			}
			for _, p := range g.parts {
				if p == nil {
					continue
				}
				for name, n := range p.nodes {
					if !yield(name, n) {
						return
					}
				}
			}
		}
	}
}

// nameHash is the data.cdb hash (cdb.Hash) of a name's key: the name in
// wire format, lowercase. name is a lowercase FQDN as the zone keeps them.
func nameHash(name string) uint32 {
	if strings.IndexByte(name, '\\') >= 0 {
		var wire [maxNameWire + 2]byte
		off, err := dns.PackDomainName(name, wire[:], 0, nil, false)
		if err == nil {
			return cdb.Hash(wire[:off])
		}
	}
	h := uint32(5381)
	step := func(c byte) { h = ((h << 5) + h) ^ uint32(c) }
	for name != "" && name != "." {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			i = len(name)
		}
		step(byte(i))
		for j := range i {
			step(name[j])
		}
		name = name[min(i+1, len(name)):]
	}
	step(0)
	return h
}
