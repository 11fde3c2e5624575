// Package cdb reads and writes D. J. Bernstein's constant database format,
// as written by cdb_make.c in djbdns 1.05 (the container of tinydns's
// data.cdb).
//
// All integers in the container are 32-bit unsigned little-endian:
//
//	offset 0     header: 256 x (u32 table_pos, u32 table_slots)    2048 bytes
//	offset 2048  records in insertion order: u32 klen, u32 dlen, key, data
//	then         256 hash tables in order 0..255,
//	             each table_slots x (u32 hash, u32 record_pos)
//
// hash = 5381; for each key byte c: hash = ((hash << 5) + hash) ^ c.
// A key lives in table hash&255 and is probed linearly from slot
// (hash>>8) % table_slots; a slot with record_pos 0 ends the search.
// cdb_make gives table i 2*count[i] slots and fills it in insertion order,
// so a Writer fed the same records produces the same bytes.
//
// A Reader holds the whole file in memory and checks every offset and
// length when it is created, so lookups on a corrupt file cannot read out
// of bounds.
package cdb

import "errors"

// HeaderSize is the size of the fixed header: 256 (table_pos, table_slots)
// pairs of 8 bytes.
const HeaderSize = 2048

// ErrCorrupt reports a file that is truncated or whose offsets and lengths
// do not fit inside it.
var ErrCorrupt = errors.New("cdb: corrupt file")

// ErrTooLarge reports a database that would not fit 32-bit file offsets.
var ErrTooLarge = errors.New("cdb: database larger than 4 GiB")

// ErrClosed reports a call on a Writer after Close.
var ErrClosed = errors.New("cdb: writer closed")

// Hash returns the cdb hash of key.
func Hash(key []byte) uint32 {
	h := uint32(5381)
	for _, c := range key {
		h = ((h << 5) + h) ^ uint32(c)
	}
	return h
}
