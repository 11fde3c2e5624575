package tinydns

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/provision/provision/internal/testenv"
)

// TestFormatGolden formats the records of each vector (golden file
// tN/export), parses them back, and compiles them to tinydns-data's bytes.
func TestFormatGolden(t *testing.T) {
	for _, v := range goldenVectors(t) {
		t.Run(v, func(t *testing.T) {
			serial := goldenSerial(t, v)
			recs, err := Parse(bytes.NewReader(readGolden(t, v, "data")), Options{Serial: serial})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := Format(&text, recs); err != nil {
				t.Fatalf("Format: %v", err)
			}
			checkGolden(t, filepath.Join(goldenDir, v, "export"), text.Bytes())
			again, err := Parse(bytes.NewReader(text.Bytes()), Options{Serial: 1})
			if err != nil {
				t.Fatalf("Parse of Format output: %v", err)
			}
			if diff := cmp.Diff(recs, again, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("records after Format and Parse (-want +got):\n%s", diff)
			}
			var cdb bytes.Buffer
			if err := Compile(bytes.NewReader(text.Bytes()), 1, &cdb); err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(cdb.Bytes(), readGolden(t, v, "data.cdb")); i >= 0 {
				t.Errorf("compiled export differs from tinydns-data's data.cdb at offset %d", i)
			}
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if testenv.Updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestFormatRecord(t *testing.T) {
	s255 := strings.Repeat("s", 255)
	tests := []struct {
		name string
		rec  Record
		want string
	}{
		{"TXT as ' line", rec(wire("t"), TypeTXT, 60, "\005a:b\\c"), `'t:a\072b\134c:60`},
		{"TXT empty", rec(wire("t"), TypeTXT, 60, ""), "'t::60"},
		{"TXT 255-byte string", rec(wire("t"), TypeTXT, 60, "\377"+s255), ":t:16:\\377" + s255 + ":60"},
		{"TXT two short strings", rec(wire("t"), TypeTXT, 60, "\001a\001b"), `:t:16:\001a\001b:60`},
		{"TXT malformed", rec(wire("t"), TypeTXT, 60, "\005ab"), `:t:16:\005ab:60`},
		{"A with 5 bytes", rec(wire("a"), TypeA, 1, "12345"), ":a:1:12345:1"},
		{"NS single label", rec(wire("z"), TypeNS, 5, wire("localhost")), "&z::localhost.:5"},
		{"NS root", rec(wire("z"), TypeNS, 5, "\000"), "&z::.:5"},
		{"MX", rec(wire("z"), TypeMX, 5, "\000\012"+wire("mx.z")), "@z::mx.z:10:5"},
		{"SOA", rec(wire("z"), TypeSOA, 0, wire("ns.z")+wire("hm.z")+timers(1, 2, 3, 4, 5)), "Zz:ns.z:hm.z:1:2:3:4:5:0"},
		{"CNAME keeps case", rec(wire("c"), TypeCNAME, 5, "\003WWW\000"), "Cc:WWW:5"},
		{"wildcard, timestamp, location", rec(wire("w"), TypeA, 0, "\x01\x02\x03\x04", wildcard, stamp("400000006a0215dd"), loc("in")),
			"+*.w:1.2.3.4:0:400000006a0215dd:in"},
		{"one-letter location", rec(wire("a"), TypeA, 9, "\x01\x02\x03\x04", loc("i")), "+a:1.2.3.4:9::i"},
		{"escaped owner", rec("\003a.b\002\377:\000", TypeTXT, 1, "\001x"), `'a\056b.\377\072:x:1`},
		{"root owner", rec("\000", TypeAAAA, 1, ""), "::28::1"},
		{"location entry", Record{Key: []byte("\000%\300\000\002"), Location: [2]byte{'i', 'n'}}, "%in:192.0.2"},
		{"location entry for all", Record{Key: []byte("\000%")}, "%"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FormatRecord(tc.rec)
			if err != nil {
				t.Fatalf("FormatRecord: %v", err)
			}
			if got != tc.want {
				t.Errorf("FormatRecord = %q, want %q", got, tc.want)
			}
			back, err := Parse(strings.NewReader(got), Options{})
			if err != nil {
				t.Fatalf("Parse(%q): %v", got, err)
			}
			if diff := cmp.Diff([]Record{tc.rec}, back, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parsed back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
	}{
		{"AXFR", rec(wire("a"), TypeAXFR, 1, "")},
		{"upper-case key", rec("\001A\000", TypeA, 1, "\x01\x02\x03\x04")},
		{"* key not wildcard", rec("\001*\000", TypeA, 1, "\x01\x02\x03\x04")},
		{"location with colon", rec(wire("a"), TypeA, 1, "\x01\x02\x03\x04", loc(":x"))},
		{"location with leading zero", rec(wire("a"), TypeA, 1, "\x01\x02\x03\x04", loc("\000x"))},
		{"NS rdata not a name", rec(wire("a"), TypeNS, 1, "\003ab")},
		{"NS rdata with junk", rec(wire("a"), TypeNS, 1, "\000x")},
		{"MX too short", rec(wire("a"), TypeMX, 1, "\000")},
		{"SOA short timers", rec(wire("a"), TypeSOA, 1, "\000\000\000")},
		{"bad location key", Record{Key: []byte("x")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := FormatRecord(tc.rec); err == nil {
				t.Errorf("FormatRecord = %q, want an error", got)
			}
			if err := Format(&bytes.Buffer{}, []Record{tc.rec}); err == nil {
				t.Error("Format succeeded, want an error")
			}
		})
	}
}

// TestFormatEquals checks that an A record followed by its PTR record
// becomes one = line, and only then.
func TestFormatEquals(t *testing.T) {
	data := "=Host.Example.ORG:192.0.2.7:600\n" +
		"+a.e:192.0.2.8:600\n^8.2.0.192.in-addr.arpa:a.e:601\n" +
		"+b.e:192.0.2.9\n^9.2.0.192.in-addr.arpa:c.e\n" +
		"=*.w.e:10.0.0.1\n"
	recs, err := Parse(strings.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Format(&got, recs); err != nil {
		t.Fatal(err)
	}
	want := "=Host.Example.ORG:192.0.2.7:600\n" +
		"+a.e:192.0.2.8:600\n^8.2.0.192.in-addr.arpa:a.e:601\n" +
		"+b.e:192.0.2.9:86400\n^9.2.0.192.in-addr.arpa:c.e:86400\n" +
		"=*.w.e:10.0.0.1:86400\n"
	if diff := cmp.Diff(want, got.String()); diff != "" {
		t.Errorf("Format (-want +got):\n%s", diff)
	}
}
