package cdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// A Reader looks up keys in a cdb file held in memory. It is safe for
// concurrent use. The slices it returns alias its buffer: do not modify them.
type Reader struct {
	b      []byte
	end    uint32   // end of the records section = start of the first table
	starts []uint32 // offsets of the records, ascending
	// isStart has bit pos set when a record starts at offset pos: the
	// check of every slot at open is then one lookup each.
	isStart []uint64
	// lazy: opened by OpenMapped, only the header checked; records are
	// checked as they are reached. unmap undoes the mapping.
	lazy  bool
	unmap func() error
}

// Open reads the whole file at path and checks it like New.
func Open(path string) (*Reader, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cdb: %w", err)
	}
	r, err := New(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// New returns a Reader over b after checking that the header, every record
// and every hash table slot lie inside b. A file that fails the check gives
// an error wrapping ErrCorrupt. b must not be modified afterwards.
func New(b []byte) (*Reader, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), HeaderSize)
	}
	if uint64(len(b)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	r := &Reader{b: b}
	if err := r.checkHeader(); err != nil {
		return nil, err
	}
	if err := r.scanRecords(); err != nil {
		return nil, err
	}
	if err := r.checkSlots(); err != nil {
		return nil, err
	}
	return r, nil
}

// Len returns the number of records (a Reader of OpenMapped counts them,
// reading the whole file, and returns -1 when it is corrupt).
func (r *Reader) Len() int {
	if !r.lazy {
		return len(r.starts)
	}
	n := 0
	if r.ForEach(func(_, _ []byte) error { n++; return nil }) != nil {
		return -1
	}
	return n
}

// Get returns the data of the first record with key.
func (r *Reader) Get(key []byte) ([]byte, bool) {
	var found []byte
	ok := false
	r.find(key, func(data []byte) bool {
		found, ok = data, true
		return false
	})
	return found, ok
}

// FindAll returns the data of every record with key, in insertion order.
func (r *Reader) FindAll(key []byte) [][]byte {
	all, _ := r.Find(key)
	return all
}

// Find is FindAll with the error of a Reader of OpenMapped that reached a
// corrupt record (a Reader of New or Open has none: it checked them all).
func (r *Reader) Find(key []byte) ([][]byte, error) {
	var all [][]byte
	err := r.find(key, func(data []byte) bool {
		all = append(all, data)
		return true
	})
	return all, err
}

// ForEach calls fn for every record in file order (= insertion order) and
// stops at the first error fn returns.
func (r *Reader) ForEach(fn func(key, data []byte) error) error {
	if r.lazy {
		for pos := uint32(HeaderSize); pos < r.end; {
			if err := r.checkRecord(pos); err != nil {
				return err
			}
			key, data := r.record(pos)
			if err := fn(key, data); err != nil {
				return err
			}
			pos += 8 + uint32(len(key)) + uint32(len(data))
		}
		return nil
	}
	for _, pos := range r.starts {
		key, data := r.record(pos)
		if err := fn(key, data); err != nil {
			return err
		}
	}
	return nil
}

// find probes the table of key, at most once per slot, and calls fn with
// the data of each matching record until fn returns false.
func (r *Reader) find(key []byte, fn func(data []byte) bool) error {
	h := Hash(key)
	tpos, n := r.table(h & 255)
	if n == 0 {
		return nil
	}
	at := (h >> 8) % n
	for range n {
		sh, pos := r.slot(tpos, at)
		if pos == 0 {
			return nil
		}
		if sh == h {
			if r.lazy {
				if err := r.checkRecord(pos); err != nil {
					return fmt.Errorf("slot %d of hash table %d: %w", at, h&255, err)
				}
			}
			k, data := r.record(pos)
			if bytes.Equal(k, key) && !fn(data) {
				return nil
			}
		}
		at = (at + 1) % n
	}
	return nil
}

func (r *Reader) u32(off uint32) uint32 {
	return binary.LittleEndian.Uint32(r.b[off:])
}

// table returns the position and slot count of hash table i.
func (r *Reader) table(i uint32) (pos, slots uint32) {
	return r.u32(8 * i), r.u32(8*i + 4)
}

// slot returns slot i of the table at tpos.
func (r *Reader) slot(tpos, i uint32) (hash, pos uint32) {
	return r.u32(tpos + 8*i), r.u32(tpos + 8*i + 4)
}

// record returns the key and data of the record at pos, a checked offset.
func (r *Reader) record(pos uint32) (key, data []byte) {
	klen, dlen := r.u32(pos), r.u32(pos+4)
	k := pos + 8
	return r.b[k : k+klen : k+klen], r.b[k+klen : k+klen+dlen : k+klen+dlen]
}

// isRecord reports whether pos is the offset of a record.
func (r *Reader) isRecord(pos uint32) bool {
	return pos < r.end && r.isStart[pos/64]&(1<<(pos%64)) != 0
}
