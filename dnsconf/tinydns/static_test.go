package tinydns

import (
	"strings"
	"testing"
)

// StaticRecords keeps what a zone can hold, skips the zone's own SOA and
// NS, and names every record it refuses.
func TestStaticRecords(t *testing.T) {
	data := ".dsas::ns.dsas:259200\n" + // an SOA and an NS of the zone itself, both skipped
		"+mail.dsas:10.0.0.25:300\n" +
		"+*.wild.dsas:10.0.0.26:300\n" +
		"%in:10.0.0\n" +
		"+far.dsas:10.0.0.27:300::in\n"
	rrs, skipped, err := StaticRecords(strings.NewReader(data))
	if skipped != 2 {
		t.Errorf("skipped %d, want 2 (the SOA and NS of .dsas)", skipped)
	}
	got := strings.Join(rrs, "\n")
	if !strings.Contains(got, "mail.dsas.\t300\tIN\tA\t10.0.0.25") || strings.Contains(got, "far.dsas") {
		t.Errorf("records:\n%s", got)
	}
	for _, want := range []string{"wildcard *.wild.dsas.", "client location lines (%) are not supported", "far.dsas.: records restricted to a client location"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
}

// ReadCDB reads back what Compile wrote.
func TestReadCDB(t *testing.T) {
	recs := compiled(t, "+web01.dsas:10.0.0.11:300\n")
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	if rr, err := recs[0].RR(); err != nil || rr.String() != "web01.dsas.\t300\tIN\tA\t10.0.0.11" {
		t.Errorf("record %v (%v)", rr, err)
	}
	if _, err := ReadCDB([]byte("short")); err == nil || !strings.HasPrefix(err.Error(), "data.cdb: ") {
		t.Errorf("ReadCDB of 5 bytes: %v, want an error naming data.cdb", err)
	}
}
