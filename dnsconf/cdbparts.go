package dnsconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

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
// start, how many and their hash. It holds no name but in the records'
// keys. Once a data.cdb that holds them is kept on disk (persist.go), the
// records are read from that file and no longer kept in memory.
type cdbPart struct {
	mem    atomic.Pointer[[]byte]   // the records; nil once kept on disk
	disk   atomic.Pointer[keptRecs] // where a kept file holds them, once it does
	offs   []uint32                 // offs[i]: where the i-th name's records start; offs[len]: their size
	counts []uint16
	hashes []uint32
	err    error
}

// keptRecs is where a part's records are in a data.cdb kept on disk.
// The file is closed when no part refers to it any more.
type keptRecs struct {
	f   *os.File
	off int64
}

// records returns c's records: those in memory, or a copy read from the
// file they are kept in.
func (c *cdbPart) records() ([]byte, error) {
	if r := c.mem.Load(); r != nil {
		return *r, nil
	}
	d := c.disk.Load()
	if d == nil {
		return nil, nil // emptyPart
	}
	b := make([]byte, c.size())
	if _, err := d.f.ReadAt(b, d.off); err != nil {
		return nil, fmt.Errorf("dnsconf: data.cdb records kept in %s: %w", d.f.Name(), err)
	}
	return b, nil
}

// readAt copies c's records from rel into p.
func (c *cdbPart) readAt(p []byte, rel uint32) (int, error) {
	if r := c.mem.Load(); r != nil {
		return copy(p, (*r)[rel:]), nil
	}
	d := c.disk.Load()
	n, err := d.f.ReadAt(p[:min(len(p), int(c.size()-rel))], d.off+int64(rel))
	if err != nil {
		return n, fmt.Errorf("dnsconf: data.cdb records kept in %s: %w", d.f.Name(), err)
	}
	return n, nil
}

// len returns how many names c holds records of.
func (c *cdbPart) len() int { return len(c.offs) - 1 }

// keyOf returns the key of the i-th name of c, whose records are recs.
func (c *cdbPart) keyOf(recs []byte, i int) []byte {
	r := recs[c.offs[i]:]
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
	crecs, err := c.records()
	if err != nil {
		return &cdbPart{err: err, offs: []uint32{0}}
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
	out := &cdbPart{offs: make([]uint32, 0, size+1), counts: make([]uint16, 0, size), hashes: make([]uint32, 0, size)}
	recs := make([]byte, 0, len(crecs)+64*len(names))
	keep := func(i, j int) { // c's names i to j
		for k := i; k < j; k++ {
			out.offs = append(out.offs, uint32(len(recs))+c.offs[k]-c.offs[i])
		}
		recs = append(recs, crecs[c.offs[i]:c.offs[j]]...)
		out.counts, out.hashes = append(out.counts, c.counts[i:j]...), append(out.hashes, c.hashes[i:j]...)
	}
	i := 0
	for _, ch := range changed {
		name := ch.name
		j := i
		for j < c.len() && bytes.Compare(c.keyOf(crecs, j), ch.key) < 0 {
			j++
		}
		keep(i, j)
		i = j
		if i < c.len() && bytes.Equal(c.keyOf(crecs, i), ch.key) {
			i++ // changed: what nodes has now, below
		}
		if name == skip {
			continue
		}
		start := uint32(len(recs))
		more, count, err := encode(recs, name)
		if err != nil {
			return &cdbPart{err: err, offs: []uint32{0}}
		}
		if count == 0 {
			continue
		}
		recs = more
		out.offs = append(out.offs, start)
		out.counts, out.hashes = append(out.counts, uint16(count)), append(out.hashes, nameHash(name))
	}
	keep(i, c.len())
	out.offs = append(out.offs, uint32(len(recs)))
	if cap(recs)-len(recs) > len(recs)/16 { // an estimate too large: no room held for nothing
		recs = slices.Clone(recs)
	}
	out.mem.Store(&recs)
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
		var crecs []byte // read when a name has more than one record
		for i, h := range c.hashes {
			if c.counts[i] == 1 {
				put(h, out.size+c.offs[i])
				continue
			}
			if crecs == nil {
				var err error
				if crecs, err = c.records(); err != nil {
					return &cdbGroup{err: err}
				}
			}
			r := crecs[c.offs[i]:c.offs[i+1]]
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
			var err error
			if c, err = f.readRecords(p[n:], off); err != nil {
				return n + c, err
			}
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
func (f *cdbFile) readRecords(p []byte, off int64) (int, error) {
	i := sort.Search(256, func(i int) bool { return f.bases[i+1] > off })
	g, rel := f.groups[i], uint32(off-f.bases[i])
	for _, c := range g.parts {
		if rel >= c.size() {
			rel -= c.size()
			continue
		}
		return c.readAt(p, rel)
	}
	return 0, nil // not reached: bases add up the parts' sizes
}

// keepOnDisk points the records of f's parts at file, a data.cdb kept
// on disk that was written from f, and lets go of them in memory: it
// returns how many bytes were still there.
func (f *cdbFile) keepOnDisk(file *os.File) (freed int64) {
	for i, g := range f.groups {
		off := f.bases[i]
		for _, c := range g.parts {
			if c.size() > 0 {
				c.disk.Store(&keptRecs{f: file, off: off})
				if c.mem.Swap(nil) != nil {
					freed += int64(c.size())
				}
			}
			off += int64(c.size())
		}
	}
	return freed
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
