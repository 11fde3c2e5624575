package tinydns

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/provision/provision/dnsconf/cdb"
)

// FuzzParse feeds arbitrary data files to Parse and Compile. What parses
// must compile to a valid data.cdb, and what Format accepts must parse
// back to the same records.
func FuzzParse(f *testing.F) {
	for _, tc := range parseTests {
		f.Add([]byte(tc.data))
	}
	for _, v := range goldenVectors(f) {
		f.Add(readGolden(f, v, "data"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := Parse(bytes.NewReader(data), Options{Serial: 7})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Compile(bytes.NewReader(data), 7, &out); err != nil {
			t.Fatalf("Parse succeeded but Compile failed: %v", err)
		}
		r, err := cdb.New(out.Bytes())
		if err != nil {
			t.Fatalf("Compile wrote an unreadable data.cdb: %v", err)
		}
		if r.Len() != len(recs) {
			t.Fatalf("data.cdb has %d records, Parse returned %d", r.Len(), len(recs))
		}
		checkFormatRoundTrip(t, recs)
	})
}

func checkFormatRoundTrip(t *testing.T, recs []Record) {
	var text bytes.Buffer
	if err := Format(&text, recs); err != nil {
		return // e.g. a location byte or an over-long SOA rname no line can hold
	}
	again, err := Parse(bytes.NewReader(text.Bytes()), Options{Serial: 7})
	if err != nil {
		t.Fatalf("Parse of Format output %q: %v", text.Bytes(), err)
	}
	if diff := cmp.Diff(recs, again, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Format output %q parses differently (-want +got):\n%s", text.Bytes(), diff)
	}
}
