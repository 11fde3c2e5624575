package dnsconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
)

// The zone's data.cdb is made of pieces that outlive a version: each node
// encodes its records once; each part of the nodeMap (the names of one
// data.cdb hash table) keeps its nodes' records in name order and its
// hash table, and a part copied to change a few names changes those in
// its copy of the other's; a version's file is the header, the parts'
// records and the tables with their positions moved to where the parts
// now start, read from those pieces as it is served (cdbFile.ReadAt):
// nothing the size of the zone is copied for a change.

// cdbPart is the data.cdb encoding of a part: its records (klen, dlen,
// key, data) in the byte order of their keys (the owner names in wire
// format), and for each name that holds records: where its records
// start, how many and their hash. It holds no pointer but its slices
// (the garbage collector does not look into it) and no name but in the
// records' keys.
type cdbPart struct {
	recs   []byte
	offs   []uint32 // offs[i]: where the i-th name's records start; offs[len] = len(recs)
	counts []uint16
	hashes []uint32
	err    error
}

// len returns how many names c holds records of.
func (c *cdbPart) len() int { return len(c.offs) - 1 }

// key returns the key of c's i-th name.
func (c *cdbPart) key(i int) []byte {
	r := c.recs[c.offs[i]:]
	return r[8 : 8+binary.LittleEndian.Uint32(r)]
}

// wireKey returns name (an FQDN) as a data.cdb key: in wire format, ASCII
// letters lowercased.
func wireKey(name string) []byte {
	var wire [maxNameWire + 2]byte
	n, err := dns.PackDomainName(name, wire[:], 0, nil, false)
	if err != nil {
		return []byte(name) // not a valid name: it holds no records either
	}
	out := wire[:n:n]
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return slices.Clone(out)
}

type cdbSlot struct{ hash, pos uint32 }

func (c *cdbPart) size() uint32 { return c.offs[len(c.offs)-1] }

// encode appends the records of n to b as data.cdb records, and returns
// how many. An SOA goes first (zonecfg takes the zone from the first).
func (n *node) encode(b []byte) ([]byte, int, error) {
	count := 0
	rrs := n.get(dns.TypeSOA)
	for _, s := range n.sets {
		if s.t != dns.TypeSOA {
			rrs = append(slices.Clip(rrs), s.rrs...)
		}
	}
	for _, rr := range rrs {
		rec, err := tinydns.FromRR(rr)
		if err != nil {
			return b, 0, err
		}
		key, data := rec.CDB()
		b = binary.LittleEndian.AppendUint32(b, uint32(len(key)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
		b = append(append(b, key...), data...)
		count++
	}
	return b, count, nil
}

// encoded returns the part's data.cdb encoding: the encoding of the part
// it was copied from with its changed names changed, or else made from
// its nodes.
// lead, the zone's origin, is left out: its records go first in the file
// (cdbFile.lead).
func (p *part) encoded(lead string) *cdbPart {
	p.cdb.once.Do(func() {
		if p.hosts != nil {
			p.hosts.fill()
		}
		if p.prev != nil {
			names := slices.Collect(maps.Keys(p.dirty))
			p.cdb.enc = with(p.prev.encoded(lead), p.encoder(), names, lead)
		} else {
			slices.SortStableFunc(p.virt, func(a, b hostRec) int { return strings.Compare(a.name, b.name) })
			names := make([]string, 0, len(p.nodes)+len(p.virt))
			for name := range p.nodes {
				names = append(names, name)
			}
			for i, r := range p.virt {
				if i == 0 || p.virt[i-1].name != r.name {
					names = append(names, r.name)
				}
			}
			names = append(names, p.addrs...)
			p.cdb.enc = with(emptyPart, p.encoder(), names, lead)
		}
		p.prev, p.dirty, p.virt, p.addrs, p.view, p.hosts = nil, nil, nil, nil, nil, nil
		p.cdb.done.Store(true)
	})
	return p.cdb.enc
}

// encoder returns what with encodes the part's names with: a node's
// records with the A or PTR record the view serves there, else those of
// the _host subtree, listed (virt) or made again (view).
func (p *part) encoder() func(b []byte, name string) ([]byte, int, error) {
	return func(b []byte, name string) ([]byte, int, error) {
		if n := p.view.withAddr(name, p.nodes[name]); n != nil {
			return n.encode(b)
		}
		var recs []hostRec
		if i, found := slices.BinarySearchFunc(p.virt, name, func(r hostRec, name string) int { return strings.Compare(r.name, name) }); found {
			j := i
			for j < len(p.virt) && p.virt[j].name == name {
				j++
			}
			recs = p.virt[i:j]
		} else if p.view != nil {
			recs = p.view.records(name)
		}
		ttl := uint32(0)
		if p.view != nil {
			ttl = p.view.ttl
		}
		for _, r := range recs {
			b = appendHostRecord(b, r, ttl)
		}
		return b, len(recs), nil
	}
}

// with returns c where the names in changed hold what encode
// appends for them (nothing when they hold no records): it walks c's
// names and the changed names side by side, copies c's records of the
// others and encodes the changed ones, but skip.
func with(c *cdbPart, encode func(b []byte, name string) ([]byte, int, error), names []string, skip string) *cdbPart {
	if c.err != nil {
		return c
	}
	type keyed struct {
		key  []byte
		name string
	}
	changed := make([]keyed, len(names))
	for i, name := range names {
		changed[i] = keyed{wireKey(name), name}
	}
	slices.SortFunc(changed, func(a, b keyed) int { return bytes.Compare(a.key, b.key) })
	size := c.len() + len(names)
	out := &cdbPart{recs: make([]byte, 0, len(c.recs)+64*len(names)),
		offs: make([]uint32, 0, size+1), counts: make([]uint16, 0, size), hashes: make([]uint32, 0, size)}
	keep := func(i, j int) { // c's names i to j
		for k := i; k < j; k++ {
			out.offs = append(out.offs, uint32(len(out.recs))+c.offs[k]-c.offs[i])
		}
		out.recs = append(out.recs, c.recs[c.offs[i]:c.offs[j]]...)
		out.counts, out.hashes = append(out.counts, c.counts[i:j]...), append(out.hashes, c.hashes[i:j]...)
	}
	i := 0
	for _, ch := range changed {
		name := ch.name
		j := i
		for j < c.len() && bytes.Compare(c.key(j), ch.key) < 0 {
			j++
		}
		keep(i, j)
		i = j
		if i < c.len() && bytes.Equal(c.key(i), ch.key) {
			i++ // changed: what nodes has now, below
		}
		if name == skip {
			continue
		}
		start := uint32(len(out.recs))
		recs, count, err := encode(out.recs, name)
		if err != nil {
			return &cdbPart{err: err, offs: []uint32{0}}
		}
		if count == 0 {
			continue
		}
		out.recs = recs
		out.offs = append(out.offs, start)
		out.counts, out.hashes = append(out.counts, uint16(count)), append(out.hashes, nameHash(name))
	}
	keep(i, c.len())
	out.offs = append(out.offs, uint32(len(out.recs)))
	return out
}

// cdbGroup is a group's parts encoded, and its data.cdb hash table over
// their records, which are in part order.
type cdbGroup struct {
	parts [partsPerGroup]*cdbPart
	size  uint32    // of the records
	table []cdbSlot // pos: offset from the first part's records, plus one (or leadPos); 0: empty
	lead  []byte    // the records of the origin, when it is in this group
	err   error
}

// leadPos marks a slot whose position is in cdbFile.lead, not the group.
const leadPos = 1 << 31

// encoded returns the group's parts encoded and its hash table. lead is
// the zone's origin: zonecfg takes the zone from the first SOA of the
// file, so the origin's records go first, before every group's.
func (g *group) encoded(lead string) *cdbGroup {
	g.cdb.once.Do(func() { g.cdb.enc = encodeGroup(g, lead) })
	return g.cdb.enc
}

func encodeGroup(g *group, lead string) *cdbGroup {
	out := &cdbGroup{}
	slots, leadSlots := 0, 0
	var leadNode *node
	for i, p := range g.parts {
		c := emptyPart
		if p != nil {
			c = p.encoded(lead)
			if n := p.nodes[lead]; n != nil {
				leadNode = n
			}
		}
		if c.err != nil {
			return &cdbGroup{err: c.err}
		}
		out.parts[i] = c
		for _, n := range c.counts {
			slots += int(n)
		}
	}
	if leadNode != nil {
		leadSlots = len(leadNode.all())
	}
	out.table = make([]cdbSlot, 2*(slots+leadSlots))
	put := func(h, pos uint32) {
		at := (h >> 8) % uint32(len(out.table))
		for out.table[at].pos != 0 {
			at = (at + 1) % uint32(len(out.table))
		}
		out.table[at] = cdbSlot{h, pos + 1}
	}
	for _, c := range out.parts {
		for i, h := range c.hashes {
			if c.counts[i] == 1 {
				put(h, out.size+c.offs[i])
				continue
			}
			r := c.recs[c.offs[i]:c.offs[i+1]]
			for off := 0; off < len(r); off += 8 + int(binary.LittleEndian.Uint32(r[off:])) + int(binary.LittleEndian.Uint32(r[off+4:])) {
				put(h, out.size+c.offs[i]+uint32(off))
			}
		}
		out.size += c.size()
	}
	if leadNode != nil {
		var err error
		if out.lead, _, err = leadNode.encode(nil); err != nil {
			return &cdbGroup{err: err}
		}
		for off := 0; off < len(out.lead); off += 8 + int(binary.LittleEndian.Uint32(out.lead[off:])) + int(binary.LittleEndian.Uint32(out.lead[off+4:])) {
			put(leadNode.hash, leadPos|uint32(off))
		}
	}
	return out
}

// cdbFile is a version's data.cdb: the header it makes, and the groups
// it reads the rest from.
type cdbFile struct {
	header []byte
	lead   []byte // the origin's records, first
	groups [256]*cdbGroup
	bases  [257]int64 // where each group's records start; bases[256]: the tables
	tables [257]int64 // where each group's table starts; tables[256]: the end
}

var errCDBTooLarge = errors.New("dnsconf: data.cdb would be larger than 4 GiB")

var (
	emptyPart  = &cdbPart{offs: []uint32{0}}
	emptyGroup = &cdbGroup{parts: [partsPerGroup]*cdbPart{emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart,
		emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart, emptyPart}}
)

// encodeCDB puts the zone's data.cdb together from its groups.
func (z *Zone) encodeCDB() (*cdbFile, error) {
	f := &cdbFile{header: make([]byte, 0, cdb.HeaderSize)}
	for i, g := range z.nodes.groups {
		c := emptyGroup
		if g != nil {
			if c = g.encoded(z.origin); c.err != nil {
				return nil, c.err
			}
		}
		f.groups[i] = c
		if c.lead != nil {
			f.lead = c.lead
		}
	}
	f.bases[0] = cdb.HeaderSize + int64(len(f.lead))
	for i, c := range f.groups {
		f.bases[i+1] = f.bases[i] + int64(c.size)
	}
	f.tables[0] = f.bases[256]
	for i, c := range f.groups {
		f.tables[i+1] = f.tables[i] + 8*int64(len(c.table))
		f.header = binary.LittleEndian.AppendUint32(f.header, uint32(f.tables[i]))
		f.header = binary.LittleEndian.AppendUint32(f.header, uint32(len(c.table)))
	}
	if f.size() > math.MaxUint32 {
		return nil, errCDBTooLarge
	}
	return f, nil
}

func (f *cdbFile) size() int64 { return f.tables[256] }

// ReadAt reads the file's bytes at off (io.ReaderAt).
func (f *cdbFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < f.size() {
		var c int
		switch {
		case off < cdb.HeaderSize:
			c = copy(p[n:], f.header[off:])
		case off < f.bases[0]:
			c = copy(p[n:], f.lead[off-cdb.HeaderSize:])
		case off < f.bases[256]:
			c = f.readRecords(p[n:], off)
		default:
			c = f.readTable(p[n:], off)
		}
		n, off = n+c, off+int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readRecords copies records from the group and part that hold off.
func (f *cdbFile) readRecords(p []byte, off int64) int {
	i := sort.Search(256, func(i int) bool { return f.bases[i+1] > off })
	g, rel := f.groups[i], uint32(off-f.bases[i])
	for _, c := range g.parts {
		if rel >= c.size() {
			rel -= c.size()
			continue
		}
		return copy(p, c.recs[rel:])
	}
	return 0 // not reached: bases add up the parts' sizes
}

// readTable writes the slots of the table that holds off, with their
// positions moved to where the group's records are in this file.
func (f *cdbFile) readTable(p []byte, off int64) int {
	i := sort.Search(256, func(i int) bool { return f.tables[i+1] > off })
	g, rel := f.groups[i], off-f.tables[i]
	n := 0
	for k := rel / 8; k < int64(len(g.table)) && n < len(p); k++ {
		var b [8]byte
		s := g.table[k]
		binary.LittleEndian.PutUint32(b[:], s.hash)
		switch {
		case s.pos&leadPos != 0:
			binary.LittleEndian.PutUint32(b[4:], cdb.HeaderSize+s.pos&^leadPos-1)
		case s.pos != 0:
			binary.LittleEndian.PutUint32(b[4:], uint32(f.bases[i])+s.pos-1)
		}
		n += copy(p[n:], b[(rel+int64(n))%8:])
	}
	return n
}

// bytes returns the whole file.
func (f *cdbFile) bytes() []byte {
	out := make([]byte, f.size())
	f.ReadAt(out, 0)
	return out
}

// reader returns the file as an io.ReadSeeker, for http.ServeContent.
func (f *cdbFile) reader() io.ReadSeeker { return io.NewSectionReader(f, 0, f.size()) }
