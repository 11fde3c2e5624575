package registry

// Changes says what changed between two versions of the registry: the
// names of the objects of each kind that were added, edited or removed
// (both names of a rename). Protocol servers use it to update what they
// derived from the older version instead of deriving it all again.
type Changes map[string]map[string]bool // kind (ObjSystem, ...) to names

// delta is what one commit changed: it made version serial from version
// from. Open gives the first Snapshot a delta of its own (no changes),
// so that every chain has a root no other Registry shares. It links to the commits before, up to maxDeltas of them, so that
// a Snapshot does not keep the whole history alive; an older version
// gets a full rebuild.
type delta struct {
	from, serial uint64
	changes      Changes
	parent       *delta
	depth        int
}

const maxDeltas = 1024

// maxDeltaNames bounds the names one ChangedSince reports: beyond it, a
// rebuild from scratch costs about as much as applying the changes.
const maxDeltaNames = 4096

func newDelta(from, serial uint64, ops []Op, parent *delta) *delta {
	d := &delta{from: from, serial: serial, changes: Changes{}, parent: parent}
	if parent != nil {
		d.depth = parent.depth + 1
	}
	if d.depth >= maxDeltas {
		d.parent, d.depth = nil, 0
	}
	for _, o := range ops {
		for _, name := range []string{o.Prev, o.Name} {
			if name == "" {
				continue
			}
			if d.changes[o.Kind] == nil {
				d.changes[o.Kind] = map[string]bool{}
			}
			d.changes[o.Kind][name] = true
		}
	}
	return d
}

// ChangedSince returns what changed from prev, an earlier version of the
// same Registry, to s. It returns false when s cannot tell (prev is not a
// recent earlier version of s: nil, of another Registry, or too old) or
// when too much changed.
func (s *Snapshot) ChangedSince(prev *Snapshot) (Changes, bool) {
	out, n := Changes{}, 0
	if prev == nil {
		return nil, false
	}
	if s == prev {
		return out, true
	}
	for d := s.delta; d != nil && d.from >= prev.Serial; d = d.parent {
		for kind, names := range d.changes {
			if out[kind] == nil {
				out[kind] = map[string]bool{}
			}
			for name := range names {
				if !out[kind][name] {
					out[kind][name] = true
					n++
				}
			}
		}
		if n > maxDeltaNames {
			return nil, false
		}
		if d.from == prev.Serial {
			return out, d.parent == prev.delta // prev is an ancestor, not a namesake
		}
	}
	return nil, false
}
