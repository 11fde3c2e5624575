package tinydns

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/provision/provision/dnsconf/cdb"
)

func openGolden(t *testing.T, vector string) *cdb.Reader {
	t.Helper()
	r, err := cdb.Open(filepath.Join(goldenDir, vector, "data.cdb"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// zoneText returns records as zone-file lines, with location and
// timestamp appended when set.
func zoneText(t *testing.T, recs []Record) string {
	t.Helper()
	var lines []string
	for _, r := range recs {
		rr, err := r.RR()
		if err != nil {
			t.Fatalf("RR: %v", err)
		}
		line := rr.String()
		if r.Location != [2]byte{} {
			line += " ; location " + strings.TrimRight(string(r.Location[:]), "\000")
		}
		if r.Timestamp != [8]byte{} {
			line += " ; timestamp " + FormatTimestamp(r.Timestamp)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// TestLookupGolden reads data.cdb files written by tinydns-data.
func TestLookupGolden(t *testing.T) {
	tests := []struct {
		vector, name string
		qtype        uint16
		want         string
	}{
		{"t1", "short.example.com", TypeTXT, "short.example.com.\t86400\tIN\tTXT\t\"hello world\""},
		{"t1", "MIXED.Example.com.", TypeTXT, "mixed.example.com.\t86400\tIN\tTXT\t\"case\""},
		{"t1", "example.com", TypeANY, "example.com.\t2560\tIN\tSOA\ta.ns.example.com. hostmaster.example.com. 1577836800 16384 2048 1048576 2560\n" +
			"example.com.\t259200\tIN\tNS\ta.ns.example.com.\n" +
			"example.com.\t86400\tIN\tMX\t10 mx.mx.example.com."},
		{"t1", "example.com", TypeMX, "example.com.\t86400\tIN\tMX\t10 mx.mx.example.com."},
		{"t1", "x.wild.example.com", TypeA, ""},
		{"t1", "wild.example.com", TypeA, ""},
		{"t1", "20.2.0.192.in-addr.arpa", TypePTR, "20.2.0.192.in-addr.arpa.\t86400\tIN\tPTR\thost.example.com."},
		{"t10", "x.m.test", TypeTXT, "x.m.test.\t86400\tIN\tTXT\t\"first\"\nx.m.test.\t86400\tIN\tTXT\t\"second\"\nx.m.test.\t86400\tIN\tTXT\t\"third\""},
		{"t2", "loc.example.org", TypeA, "loc.example.org.\t86400\tIN\tA\t10.0.0.1 ; location in\nloc.example.org.\t86400\tIN\tA\t203.0.113.1 ; location ex"},
		{"t2", "future.example.org", TypeA, "future.example.org.\t0\tIN\tA\t192.0.2.200 ; timestamp 4000000000000000"},
		{"t2", "aaaa.example.org", TypeAAAA, "aaaa.example.org.\t86400\tIN\tAAAA\t2001:db8::1"},
		{"t2", "nothing.example.org", TypeANY, ""},
	}
	for _, tc := range tests {
		t.Run(tc.vector+"/"+tc.name, func(t *testing.T) {
			recs, err := Lookup(openGolden(t, tc.vector), tc.name, tc.qtype)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if diff := cmp.Diff(tc.want, zoneText(t, recs)); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTXTStrings(t *testing.T) {
	recs, err := Lookup(openGolden(t, "t1"), "t300.example.com", TypeTXT)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Lookup = %d records, %v", len(recs), err)
	}
	strs, err := TXTStrings(recs[0].RData)
	if err != nil {
		t.Fatal(err)
	}
	var lens []int
	for _, s := range strs {
		lens = append(lens, len(s))
	}
	if diff := cmp.Diff([]int{127, 127, 46}, lens); diff != "" {
		t.Errorf("string lengths (-want +got):\n%s", diff)
	}
	want := strings.Repeat("0123456789", 30)
	if got := string(bytes.Join(strs, nil)); got != want {
		t.Errorf("joined text = %q, want %q", got, want)
	}
	if _, err := TXTStrings([]byte("\005abc")); !errors.Is(err, ErrData) {
		t.Errorf("TXTStrings of truncated rdata = %v, want ErrData", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, data := range []string{"", "\000\001", "\000\001=\000", "\000\001?" + strings.Repeat("\000", 12), "\000\001>x", "\000\001+xy\000\000\000"} {
		if _, err := Decode([]byte(wire("a")), []byte(data)); !errors.Is(err, ErrData) {
			t.Errorf("Decode(%q) = %v, want ErrData", data, err)
		}
	}
	if _, err := Decode([]byte("\000%"), []byte("abc")); !errors.Is(err, ErrData) {
		t.Errorf("Decode of a 3-byte location = %v, want ErrData", err)
	}
}

func TestLookupErrors(t *testing.T) {
	var buf bytes.Buffer
	w := cdb.NewWriter(&buf)
	if err := w.Add([]byte(wire("bad")), []byte("\000\001")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cdb.New(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lookup(r, "bad", TypeA); !errors.Is(err, ErrData) {
		t.Errorf("Lookup of bad data = %v, want ErrData", err)
	}
	if _, err := Lookup(r, strings.Repeat("a", 64), TypeA); !errors.Is(err, ErrName) {
		t.Errorf("Lookup of a 64-byte label = %v, want ErrName", err)
	}
}
