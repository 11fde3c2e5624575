package dnsconf

import (
	"bytes"
	"fmt"
	"testing"
)

// The prepared answers' table against a Go map: every key finds its own
// answer through growth and replacement, and a key never put (or a
// prefix of one) is not found.
func TestAnswerTable(t *testing.T) {
	tab := newAnswerTable()
	want := map[string]string{}
	for i := range 5000 {
		k := fmt.Sprintf("\x05h%05d\x04dsas\x00\x00\x10", i)
		a := fmt.Sprintf("answer %d", i)
		tab.put([]byte(k), []byte(a), i%6, i%7 == 0, false)
		want[k] = a
	}
	for i := 0; i < 5000; i += 3 { // replaced: the new answer wins
		k := fmt.Sprintf("\x05h%05d\x04dsas\x00\x00\x10", i)
		tab.put([]byte(k), nil, 0, false, true)
		want[k] = "forwarded"
	}
	size := len(tab.arena)
	for range 100 { // forwarded again at every query: no more room taken
		tab.put([]byte("\x05h00003\x04dsas\x00\x00\x10"), nil, 0, false, true)
	}
	if len(tab.arena) != size {
		t.Errorf("the arena grew from %d to %d bytes re-putting one forwarded name", size, len(tab.arena))
	}
	if tab.len() != len(want) {
		t.Fatalf("%d entries, want %d", tab.len(), len(want))
	}
	if 2*tab.len() > len(tab.slots) {
		t.Fatalf("%d entries in %d slots: more than half full", tab.len(), len(tab.slots))
	}
	for k, a := range want {
		e, got, ok := tab.get([]byte(k))
		switch {
		case !ok:
			t.Fatalf("%q not found", k)
		case a == "forwarded":
			if !e.fwd || len(got) != 0 {
				t.Fatalf("%q: %+v %q, want forwarded", k, e, got)
			}
		case e.fwd || !bytes.Equal(got, []byte(a)):
			t.Fatalf("%q: %q, want %q", k, got, a)
		}
	}
	e, _, _ := tab.get([]byte("\x05h00007\x04dsas\x00\x00\x10"))
	if !e.tc || e.rcode != 1 {
		t.Errorf("h00007: tc %v rcode %d, want true 1", e.tc, e.rcode)
	}
	for _, k := range []string{"", "\x05h00001", "\x05h99999\x04dsas\x00\x00\x10", "\x05h00001\x04dsas\x00\x00\x01"} {
		if _, _, ok := tab.get([]byte(k)); ok {
			t.Errorf("%q found, never put", k)
		}
	}
}
