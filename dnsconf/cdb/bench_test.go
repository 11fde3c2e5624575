package cdb

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkLookup looks up names in a file of 10,000 tinydns TXT records.
func BenchmarkLookup(b *testing.B) {
	const n = 10000
	keys := make([][]byte, n)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := range keys {
		host := fmt.Sprintf("host%05d", i)
		keys[i] = []byte("\x09" + host + "\x07example\x03com\x00")
		txt := fmt.Sprintf("provision.role=web provision.index=%d", i)
		data := append([]byte("\x00\x10=\x00\x01\x51\x80\x00\x00\x00\x00\x00\x00\x00\x00"), byte(len(txt)))
		if err := w.Add(keys[i], append(data, txt...)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r, err := New(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := r.Get(keys[i%n]); !ok {
			b.Fatalf("key %d not found", i%n)
		}
		i++
	}
}
