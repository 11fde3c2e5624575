package cdb

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(goldenDir, "t1", "data.cdb"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := New(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("New of the first %d of %d bytes = %v, want ErrCorrupt", n, len(b), err)
		}
	}
}

// corruption is a change that breaks a good file.
type corruption struct {
	name  string
	patch func([]byte) []byte
}

// corruptions are the ways tests break good, a file of the records a=1,
// bb=22, a=3: the first slot a lookup of "a" reads is patched where a
// slot is.
func corruptions(good []byte) []corruption {
	put := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	}
	h := Hash([]byte("a"))
	ha := int(h & 255)
	tpos := int(binary.LittleEndian.Uint32(good[8*ha:]))
	slot := tpos + 8*int((h>>8)%binary.LittleEndian.Uint32(good[8*ha+4:]))
	return []corruption{
		{"table inside header", put(8*7, 100)},
		{"table past end", put(8*7, 1<<31)},
		{"too many slots", put(8*ha+4, 1000)},
		{"huge slot count", put(8*ha+4, 0xffffffff)},
		{"key length past tables", put(HeaderSize, 1000)},
		{"data length overflow", put(HeaderSize+4, 0xfffffff0)},
		{"slot points mid-record", put(slot+4, HeaderSize+1)},
		{"slot points into header", put(slot+4, 8)},
		{"slot points past end", put(slot+4, 1<<30)},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
	}
}

func goodFile(t testing.TB) []byte { return build(t, []kv{{"a", "1"}, {"bb", "22"}, {"a", "3"}}) }

func TestCorrupt(t *testing.T) {
	good := goodFile(t)
	for _, tc := range corruptions(good) {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.patch(append([]byte(nil), good...))
			if _, err := New(b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("New = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestFullTable checks that a lookup in a table with no free slot stops.
func TestFullTable(t *testing.T) {
	b := build(t, []kv{{"a", "1"}})
	h := Hash([]byte("a"))
	tpos := binary.LittleEndian.Uint32(b[8*(h&255):])
	// Fill the empty slot with a second pointer to the record, under a
	// hash that never matches.
	for i := range uint32(2) {
		s := b[tpos+8*i:]
		if binary.LittleEndian.Uint32(s[4:]) == 0 {
			binary.LittleEndian.PutUint32(s, h+1)
			binary.LittleEndian.PutUint32(s[4:], HeaderSize)
		}
	}
	r, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get([]byte("b")); ok {
		t.Error("found a missing key")
	}
	if got := len(r.FindAll([]byte("a"))); got != 1 {
		t.Errorf("FindAll found %d records, want 1", got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(build(f, nil))
	f.Add(build(f, []kv{{"a", "1"}, {"a", "2"}, {"", ""}}))
	if b, err := os.ReadFile(filepath.Join(goldenDir, "t2", "data.cdb")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := New(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("New error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		n := 0
		_ = r.ForEach(func(k, d []byte) error {
			n++
			r.FindAll(k) // a fuzzed file may hold records no slot points at
			return nil
		})
		if n != r.Len() {
			t.Errorf("ForEach saw %d records, Len = %d", n, r.Len())
		}
		r.Get([]byte("\000"))
		lazy, err := newLazy(b)
		if err != nil {
			t.Fatalf("New takes the file, newLazy does not: %v", err)
		}
		if diff := cmp.Diff(all(t, r), all(t, lazy)); diff != "" {
			t.Errorf("the lazy reader's records (-checked +lazy):\n%s", diff)
		}
	})
}

// FuzzLazyReader: a reader that checks records as it reaches them never
// reads outside the file, and says ErrCorrupt of what it cannot read.
func FuzzLazyReader(f *testing.F) {
	f.Add(build(f, []kv{{"a", "1"}, {"a", "2"}, {"", ""}}), []byte("a"))
	f.Fuzz(func(t *testing.T, b, key []byte) {
		if len(b) > 64<<10 {
			return // a lookup may scan a whole table: keep each run short
		}
		r, err := newLazy(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("newLazy error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if _, err := r.Find(key); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Find error %v does not wrap ErrCorrupt", err)
		}
		seen := 0
		err = r.ForEach(func(k, d []byte) error {
			if seen++; seen > 64 {
				return nil
			}
			if _, err := r.Find(k); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Find error %v does not wrap ErrCorrupt", err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("ForEach error %v does not wrap ErrCorrupt", err)
		}
		if _, nerr := New(b); nerr == nil && err != nil {
			t.Fatalf("New takes the file, the lazy ForEach says %v", err)
		}
	})
}
