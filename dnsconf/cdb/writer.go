package cdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// slot is one hash table entry: the full hash and the record's file offset.
type slot struct {
	hash, pos uint32
}

// A Writer builds a cdb file. It keeps the records in memory and writes the
// whole file on Close, so any io.Writer will do.
type Writer struct {
	w       io.Writer
	records []byte // the records section, starting at file offset HeaderSize
	slots   []slot // one per record, in insertion order
	closed  bool
}

// NewWriter returns a Writer that writes the database to w on Close.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Add appends a record. Several records may share one key; readers return
// them in the order they were added.
func (w *Writer) Add(key, data []byte) error {
	if w.closed {
		return ErrClosed
	}
	pos := uint64(HeaderSize) + uint64(len(w.records))
	end := pos + 8 + uint64(len(key)) + uint64(len(data))
	// Every record also costs 16 bytes of hash table (2 slots).
	if end+16*uint64(len(w.slots)+1) > math.MaxUint32 {
		return ErrTooLarge
	}
	w.records = binary.LittleEndian.AppendUint32(w.records, uint32(len(key)))
	w.records = binary.LittleEndian.AppendUint32(w.records, uint32(len(data)))
	w.records = append(w.records, key...)
	w.records = append(w.records, data...)
	w.slots = append(w.slots, slot{hash: Hash(key), pos: uint32(pos)})
	return nil
}

// Close writes the header, the records and the hash tables. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	tables := w.tables()
	header := make([]byte, 0, HeaderSize)
	pos := uint32(HeaderSize + len(w.records))
	for _, t := range tables {
		header = binary.LittleEndian.AppendUint32(header, pos)
		header = binary.LittleEndian.AppendUint32(header, uint32(len(t)))
		pos += uint32(8 * len(t))
	}
	if _, err := w.w.Write(header); err != nil {
		return fmt.Errorf("cdb: write header: %w", err)
	}
	if _, err := w.w.Write(w.records); err != nil {
		return fmt.Errorf("cdb: write records: %w", err)
	}
	if _, err := w.w.Write(encodeTables(tables)); err != nil {
		return fmt.Errorf("cdb: write hash tables: %w", err)
	}
	return nil
}

// tables lays out the 256 hash tables as cdb_make does: table i has twice
// as many slots as it has records, filled in insertion order by linear
// probing from (hash>>8) % slots.
func (w *Writer) tables() [256][]slot {
	var count [256]int
	for _, s := range w.slots {
		count[s.hash&255]++
	}
	var tables [256][]slot
	for i, n := range count {
		tables[i] = make([]slot, 2*n)
	}
	for _, s := range w.slots {
		t := tables[s.hash&255]
		at := (s.hash >> 8) % uint32(len(t))
		for t[at].pos != 0 {
			at = (at + 1) % uint32(len(t))
		}
		t[at] = s
	}
	return tables
}

func encodeTables(tables [256][]slot) []byte {
	var out []byte
	for _, t := range tables {
		for _, s := range t {
			out = binary.LittleEndian.AppendUint32(out, s.hash)
			out = binary.LittleEndian.AppendUint32(out, s.pos)
		}
	}
	return out
}
