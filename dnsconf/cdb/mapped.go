package cdb

import (
	"fmt"
	"math"
	"os"
)

// OpenMapped maps the file at path into memory and checks only its
// header, so that opening it costs the same whatever its size: for a
// process that looks up a few keys and exits (zonecfg at boot, on the
// data.cdb of 100,000 systems: 58 MiB, which Open reads and checks whole
// in 140 ms). Every record a lookup or ForEach reaches is checked as it is
// reached, and a bad one is an error wrapping ErrCorrupt from Find or
// ForEach (FindAll and Get, which have no error, skip it). Where the file
// cannot be mapped it is read, as by Open. Close unmaps it. The file must
// not be truncated while it is open (it is read in place): replace it by
// rename, as the appliance and zonecfg's callers do.
func OpenMapped(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cdb: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cdb: %w", err)
	}
	if fi.Size() > math.MaxUint32 {
		return nil, fmt.Errorf("%s: %w: %d bytes", path, ErrTooLarge, fi.Size())
	}
	b, unmap, err := mapFile(f, fi)
	if err != nil {
		return Open(path)
	}
	r, err := newLazy(b)
	if err != nil {
		unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.unmap = unmap
	return r, nil
}

// newLazy returns a Reader over b that checks only the header now, and
// every record as it is reached.
func newLazy(b []byte) (*Reader, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrCorrupt, len(b), HeaderSize)
	}
	r := &Reader{b: b, lazy: true}
	if err := r.checkHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Close releases what OpenMapped mapped; the slices the Reader returned
// are then invalid. It does nothing to other Readers.
func (r *Reader) Close() error {
	if r.unmap == nil {
		return nil
	}
	err := r.unmap()
	r.unmap, r.b = nil, nil
	return err
}

// checkRecord checks, for a Reader that did not check the file when it
// was opened, that a record at pos lies within the records section.
func (r *Reader) checkRecord(pos uint32) error {
	if pos < HeaderSize || uint64(pos)+8 > uint64(r.end) {
		return fmt.Errorf("%w: a record at %d, outside the records section (%d to %d)", ErrCorrupt, pos, HeaderSize, r.end)
	}
	klen, dlen := r.u32(pos), r.u32(pos+4)
	if uint64(pos)+8+uint64(klen)+uint64(dlen) > uint64(r.end) {
		return fmt.Errorf("%w: record at %d (key %d, data %d bytes) runs into the hash tables at %d", ErrCorrupt, pos, klen, dlen, r.end)
	}
	return nil
}
