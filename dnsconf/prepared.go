package dnsconf

import (
	"bytes"
	"hash/maphash"
)

// answerTable is one worker's prepared answers: an open-addressing hash
// table whose slots hold no pointers, over one arena of bytes where each
// entry's key is followed by its answer. A lookup touches the slot and
// then one run of bytes (key and answer side by side), where a Go map
// of strings touched its control word, its slot, the key's bytes and
// the answer's, each in its own place; and the garbage collector has
// nothing to scan in it. Entries are never removed: the worker starts a
// new table when the zone changes or the table is full (maxPrepared).
type answerTable struct {
	seed  maphash.Seed
	slots []answerSlot // a power of two long, at most half full
	n     int
	arena []byte
}

// answerSlot is one entry: h is its key's hash (0: the slot is empty),
// the key is arena[off:off+klen] and the answer the alen bytes after it.
type answerSlot struct {
	h     uint64
	off   uint32
	klen  uint16
	alen  uint16
	rcode uint8
	tc    bool
	fwd   bool // the name is not ours and the client may recurse: forward
}

func newAnswerTable() *answerTable {
	return &answerTable{seed: maphash.MakeSeed(), slots: make([]answerSlot, 1024)}
}

func (t *answerTable) len() int { return t.n }

func (t *answerTable) hash(key []byte) uint64 {
	return maphash.Bytes(t.seed, key) | 1 // never 0, the empty slot's
}

// get returns the entry of key and its answer (an alias of the arena:
// copy it before the next put).
func (t *answerTable) get(key []byte) (answerSlot, []byte, bool) {
	h := t.hash(key)
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.h == 0 {
			return answerSlot{}, nil, false
		}
		if s.h == h && int(s.klen) == len(key) {
			k := t.arena[s.off : int(s.off)+len(key)]
			if bytes.Equal(k, key) {
				return *s, t.arena[int(s.off)+len(key) : int(s.off)+len(key)+int(s.alen)], true
			}
		}
	}
}

// put keeps answer (with its rcode and TC bit, or as forwarded) for key,
// in place of what key had. A key or an answer too long for a slot's
// lengths is not kept: it is answered the slow way every time.
func (t *answerTable) put(key, answer []byte, rcode int, tc, fwd bool) {
	if len(key) > 0xffff || len(answer) > 0xffff || len(t.arena)+len(key)+len(answer) > 1<<32-1 {
		return
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	h := t.hash(key)
	e := answerSlot{h: h, klen: uint16(len(key)), alen: uint16(len(answer)), rcode: uint8(rcode), tc: tc, fwd: fwd}
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.h == 0 {
			e.off = t.add(key, answer)
			*s = e
			t.n++
			return
		}
		if s.h == h && int(s.klen) == len(key) && bytes.Equal(t.arena[s.off:int(s.off)+len(key)], key) {
			if len(answer) <= int(s.alen) { // in place: a name forwarded at every query takes no more room
				e.off = s.off
				copy(t.arena[int(s.off)+len(key):], answer)
			} else { // the old bytes stay in the arena until the table goes
				e.off = t.add(key, answer)
			}
			*s = e
			return
		}
	}
}

// add appends key and answer to the arena and returns where they start.
func (t *answerTable) add(key, answer []byte) uint32 {
	off := uint32(len(t.arena))
	t.arena = append(append(t.arena, key...), answer...)
	return off
}

// grow doubles the slots and puts every entry back by its kept hash.
func (t *answerTable) grow() {
	old := t.slots
	t.slots = make([]answerSlot, 2*len(old))
	mask := len(t.slots) - 1
	for _, e := range old {
		if e.h == 0 {
			continue
		}
		i := int(e.h) & mask
		for t.slots[i].h != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = e
	}
}
