package cdb

import "fmt"

// checkHeader checks that every hash table lies between the header and the
// end of the file and sets r.end to the start of the first table.
func (r *Reader) checkHeader() error {
	size := uint64(len(r.b))
	end := size
	for i := range uint32(256) {
		pos, n := r.table(i)
		if pos < HeaderSize || uint64(pos)+8*uint64(n) > size {
			return fmt.Errorf("%w: hash table %d (%d slots at %d) outside the file of %d bytes", ErrCorrupt, i, n, pos, size)
		}
		end = min(end, uint64(pos))
	}
	r.end = uint32(end)
	return nil
}

// scanRecords walks the records section and checks that the records fill
// it exactly.
func (r *Reader) scanRecords() error {
	pos := uint64(HeaderSize)
	r.isStart = make([]uint64, r.end/64+1)
	for pos < uint64(r.end) {
		if pos+8 > uint64(r.end) {
			return fmt.Errorf("%w: record header at %d runs into the hash tables at %d", ErrCorrupt, pos, r.end)
		}
		klen, dlen := r.u32(uint32(pos)), r.u32(uint32(pos)+4)
		next := pos + 8 + uint64(klen) + uint64(dlen)
		if next > uint64(r.end) {
			return fmt.Errorf("%w: record at %d (key %d, data %d bytes) runs into the hash tables at %d", ErrCorrupt, pos, klen, dlen, r.end)
		}
		r.starts = append(r.starts, uint32(pos))
		r.isStart[pos/64] |= 1 << (pos % 64)
		pos = next
	}
	return nil
}

// checkSlots checks that every used slot points at a record.
func (r *Reader) checkSlots() error {
	for i := range uint32(256) {
		tpos, n := r.table(i)
		for j := range n {
			_, pos := r.slot(tpos, j)
			if pos != 0 && !r.isRecord(pos) {
				return fmt.Errorf("%w: slot %d of hash table %d points at %d, which is not a record", ErrCorrupt, j, i, pos)
			}
		}
	}
	return nil
}
