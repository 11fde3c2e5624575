package cdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goldenDir holds data.cdb files written by djbdns 1.05 tinydns-data.
const goldenDir = "../testdata/tinydns"

type kv struct{ Key, Data string }

func build(t testing.TB, recs []kv) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Add([]byte(r.Key), []byte(r.Data)); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func all(t testing.TB, r *Reader) []kv {
	t.Helper()
	var got []kv
	err := r.ForEach(func(k, d []byte) error {
		got = append(got, kv{string(k), string(d)})
		return nil
	})
	if err != nil {
		t.Fatalf("ForEach: %v", err)
	}
	return got
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*", "data.cdb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden data.cdb under %s: %v", goldenDir, err)
	}
	return files
}

// TestRewriteGolden reads each data.cdb made by djbdns and writes its
// records again: the bytes must be identical.
func TestRewriteGolden(t *testing.T) {
	for _, path := range goldenFiles(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(want)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := build(t, all(t, r))
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("rewritten file differs from %s at offset %d (len %d, want %d)", path, i, len(got), len(want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestWorkedExample follows CDB-FORMAT.md §1.2 through t1/data.cdb.
func TestWorkedExample(t *testing.T) {
	r, err := Open(filepath.Join(goldenDir, "t1", "data.cdb"))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("\005short\007example\003com\000")
	if h := Hash(key); h != 0x9895433f {
		t.Errorf("Hash = %#x, want 0x9895433f", h)
	}
	got, ok := r.Get(key)
	want := "\x00\x10=\x00\x01\x51\x80\x00\x00\x00\x00\x00\x00\x00\x00\x0bhello world"
	if !ok || string(got) != want {
		t.Errorf("Get = %q, %v; want %q", got, ok, want)
	}
	if _, ok := r.Get([]byte("\005nope\000")); ok {
		t.Error("Get of a missing key found something")
	}
}

func TestEmpty(t *testing.T) {
	b := build(t, nil)
	want := make([]byte, 0, HeaderSize)
	for range 256 {
		want = binary.LittleEndian.AppendUint32(want, HeaderSize)
		want = binary.LittleEndian.AppendUint32(want, 0)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("empty database is %d bytes, not 256 x (2048, 0)", len(b))
	}
	golden, err := os.ReadFile(filepath.Join(goldenDir, "t4", "data.cdb"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, golden) {
		t.Error("empty database differs from t4/data.cdb")
	}
}

func TestWriterClosed(t *testing.T) {
	w := NewWriter(&bytes.Buffer{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add([]byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestRoundTrip writes random records, with repeated and empty keys, and
// reads them back.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 100, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			recs := randomRecords(rng, n)
			r, err := New(build(t, recs))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if diff := cmp.Diff(recs, all(t, r)); diff != "" {
				t.Fatalf("ForEach (-want +got):\n%s", diff)
			}
			checkLookups(t, r, recs)
		})
	}
}

func randomRecords(rng *rand.Rand, n int) []kv {
	var recs []kv
	for range n {
		k := make([]byte, rng.IntN(4))
		for j := range k {
			k[j] = byte(rng.IntN(6)) // few distinct keys: many duplicates
		}
		d := make([]byte, rng.IntN(40))
		for j := range d {
			d[j] = byte(rng.Uint32())
		}
		recs = append(recs, kv{string(k), string(d)})
	}
	return recs
}

func checkLookups(t *testing.T, r *Reader, recs []kv) {
	t.Helper()
	want := map[string][]string{}
	for _, rec := range recs {
		want[rec.Key] = append(want[rec.Key], rec.Data)
	}
	want["\xff\xfe absent"] = nil
	for k, ds := range want {
		var got []string
		for _, d := range r.FindAll([]byte(k)) {
			got = append(got, string(d))
		}
		if diff := cmp.Diff(ds, got); diff != "" {
			t.Errorf("FindAll(%q) (-want +got):\n%s", k, diff)
		}
		first, ok := r.Get([]byte(k))
		if ok != (len(ds) > 0) || (ok && string(first) != ds[0]) {
			t.Errorf("Get(%q) = %q, %v", k, first, ok)
		}
	}
}
