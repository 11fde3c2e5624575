package tinydns

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const testSerial = 1000

var defTimers = timers(testSerial, 16384, 2048, 1048576, 2560)

// parseTests follow CDB-FORMAT.md §3-5; each data text is one or a few lines.
var parseTests = []struct {
	name, data string
	want       []Record
}{
	{"A", "+www.Example.COM:192.0.2.10:3600", []Record{rec(wire("www.example.com"), TypeA, 3600, "\xc0\x00\x02\x0a")}},
	{"A ip mod 256", "+a:300.1.2.3", []Record{rec(wire("a"), TypeA, 86400, "\x2c\x01\x02\x03")}},
	{"A ip trailing junk", "+a:1.2.3.4xyz", []Record{rec(wire("a"), TypeA, 86400, "\x01\x02\x03\x04")}},
	{"A ip short", "+a:1.2.3\n+b:\n+c:1..2.3.4\n+d:.1.2.3.4", nil},
	{"ttl truncated to 32 bits", "+a:1.2.3.4:99999999999", []Record{rec(wire("a"), TypeA, 1215752191, "\x01\x02\x03\x04")}},
	{"ttl leading digits", "+a:1.2.3.4:12abc\n+b:1.2.3.4:abc", []Record{
		rec(wire("a"), TypeA, 12, "\x01\x02\x03\x04"), rec(wire("b"), TypeA, 86400, "\x01\x02\x03\x04")}},
	{"timestamp", "+a:1.2.3.4:0:4000000000000000\n+b:1.2.3.4::A0ff", []Record{
		rec(wire("a"), TypeA, 0, "\x01\x02\x03\x04", stamp("4000000000000000")),
		rec(wire("b"), TypeA, 86400, "\x01\x02\x03\x04", stamp("00ff000000000000"))}},
	{"location", "+a:1.2.3.4:::in\n+b:1.2.3.4:::i\n+c:1.2.3.4:::inx", []Record{
		rec(wire("a"), TypeA, 86400, "\x01\x02\x03\x04", loc("in")),
		rec(wire("b"), TypeA, 86400, "\x01\x02\x03\x04", loc("i")),
		rec(wire("c"), TypeA, 86400, "\x01\x02\x03\x04", loc("in"))}},
	{"= A and PTR", "=Host.Example.ORG:192.0.2.7:600", []Record{
		rec(wire("host.example.org"), TypeA, 600, "\xc0\x00\x02\x07"),
		rec(wire("7.2.0.192.in-addr.arpa"), TypePTR, 600, "\004Host\007Example\003ORG\000")}},
	{". zone", ".example.com:192.0.2.1:a", []Record{
		rec(wire("example.com"), TypeSOA, 2560, wire("a.ns.example.com")+"\012hostmaster"+wire("example.com")+defTimers),
		rec(wire("example.com"), TypeNS, 259200, wire("a.ns.example.com")),
		rec(wire("a.ns.example.com"), TypeA, 259200, "\xc0\x00\x02\x01")}},
	{". ttl 0", ".z::ns1.z.:0", []Record{
		rec(wire("z"), TypeSOA, 0, wire("ns1.z")+"\012hostmaster"+wire("z")+defTimers),
		rec(wire("z"), TypeNS, 0, wire("ns1.z"))}},
	{". ttl 2^32 is not 0", ".z::ns1.z.:4294967296", []Record{
		rec(wire("z"), TypeSOA, 2560, wire("ns1.z")+"\012hostmaster"+wire("z")+defTimers),
		rec(wire("z"), TypeNS, 0, wire("ns1.z"))}},
	{"& x-rule", "&sub.example.com:192.0.2.54:x\n&s::", []Record{
		rec(wire("sub.example.com"), TypeNS, 259200, wire("x.ns.sub.example.com")),
		rec(wire("x.ns.sub.example.com"), TypeA, 259200, "\xc0\x00\x02\x36"),
		rec(wire("s"), TypeNS, 259200, wire("ns.s"))}},
	{"& server with dot", "&z::NS.other.", []Record{rec(wire("z"), TypeNS, 259200, "\002NS\005other\000")}},
	{"@ MX", "@example.com:192.0.2.25:mx:10\n@e::mail.example.net", []Record{
		rec(wire("example.com"), TypeMX, 86400, "\000\012"+wire("mx.mx.example.com")),
		rec(wire("mx.mx.example.com"), TypeA, 86400, "\xc0\x00\x02\x19"),
		rec(wire("e"), TypeMX, 86400, "\000\000"+wire("mail.example.net"))}},
	{"@ distance mod 2^16", "@e::m.:65537", []Record{rec(wire("e"), TypeMX, 86400, "\000\001"+wire("m"))}},
	{"Z", "Zexample.org:ns1.example.org:hostmaster.example.org:2024010101:7200:1800:604800:300:3600", []Record{
		rec(wire("example.org"), TypeSOA, 3600, wire("ns1.example.org")+wire("hostmaster.example.org")+timers(2024010101, 7200, 1800, 604800, 300))}},
	{"Z defaults", "Zz:ns1:hm", []Record{rec(wire("z"), TypeSOA, 2560, wire("ns1")+wire("hm")+defTimers)}},
	{"C and ^", "Cwww2.e:www.E\n^30.2.0.192.in-addr.arpa:ptr.e", []Record{
		rec(wire("www2.e"), TypeCNAME, 86400, "\003www\001E\000"),
		rec(wire("30.2.0.192.in-addr.arpa"), TypePTR, 86400, wire("ptr.e"))}},
	{"TXT escapes", `'esc:a\072b\134c\000d\nx\777\1234`, []Record{rec(wire("esc"), TypeTXT, 86400, "\014a:b\\c\000dnx\377S4")}},
	{"TXT empty", "'e:", []Record{rec(wire("e"), TypeTXT, 86400, "")}},
	{"TXT 300 bytes", "'t:" + strings.Repeat("x", 300), []Record{rec(wire("t"), TypeTXT, 86400,
		"\177"+strings.Repeat("x", 127)+"\177"+strings.Repeat("x", 127)+"\056"+strings.Repeat("x", 46))}},
	{"TXT trailing spaces stripped, CR kept", "'sp:a\\072b  \t\n'cr:abc\r\n+a:1.2.3.4\r\n", []Record{
		rec(wire("sp"), TypeTXT, 86400, "\003a:b"),
		rec(wire("cr"), TypeTXT, 86400, "\004abc\r"),
		rec(wire("a"), TypeA, 86400, "\x01\x02\x03\x04")}},
	{": generic", `:aaaa.e:28:\040\001\015\270:120` + "\n:x:65537:\\1234", []Record{
		rec(wire("aaaa.e"), TypeAAAA, 120, "\x20\x01\x0d\xb8"),
		rec(wire("x"), TypeA, 86400, "S4")}},
	{"% locations", "%in:192.0.2\n%ex\n%i:1.2.300", []Record{
		{Key: []byte("\000%\300\000\002"), Location: [2]byte{'i', 'n'}},
		{Key: []byte("\000%"), Location: [2]byte{'e', 'x'}},
		{Key: []byte("\000%\001\002\054"), Location: [2]byte{'i'}}}},
	{"wildcards", "+*.Wild.e:1.2.3.4\n+a.*.b:1.2.3.4\n+*.*.b:1.2.3.4\n'*:root", []Record{
		rec(wire("wild.e"), TypeA, 86400, "\x01\x02\x03\x04", wildcard),
		rec("\001a\001*\001b\000", TypeA, 86400, "\x01\x02\x03\x04"),
		rec("\001*\001b\000", TypeA, 86400, "\x01\x02\x03\x04", wildcard),
		rec("\000", TypeTXT, 86400, "\004root", wildcard)}},
	{"name syntax", "+a..b.:1.2.3.4\n+\\.x:1.2.3.4\n+a\\:1.2.3.4\n+\\101B\\143:1.2.3.4\n+:1.2.3.4", []Record{
		rec(wire("a.b"), TypeA, 86400, "\x01\x02\x03\x04"),
		rec("\002.x\000", TypeA, 86400, "\x01\x02\x03\x04"),
		rec(wire("a"), TypeA, 86400, "\x01\x02\x03\x04"),
		rec(wire("abc"), TypeA, 86400, "\x01\x02\x03\x04"),
		rec("\000", TypeA, 86400, "\x01\x02\x03\x04")}},
	{"longest label and name", "+" + strings.Repeat("a", 63) + ":1.2.3.4\n+" + longName(61) + ":1.2.3.4", []Record{
		rec(wire(strings.Repeat("a", 63)), TypeA, 86400, "\x01\x02\x03\x04"),
		rec(wire(longName(61)), TypeA, 86400, "\x01\x02\x03\x04")}},
	{"skipped lines", "# comment\n-+a:1.2.3.4\n\n  \t\n+b:1.2.3.4\n", []Record{rec(wire("b"), TypeA, 86400, "\x01\x02\x03\x04")}},
}

// longName is three 63-byte labels and one of n bytes: 255 bytes in wire
// format for n = 61.
func longName(n int) string {
	l := strings.Repeat("a", 63)
	return l + "." + l + "." + l + "." + strings.Repeat("b", n)
}

func TestParse(t *testing.T) {
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.data), Options{Serial: testSerial})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSerialZero(t *testing.T) {
	got, err := Parse(strings.NewReader(".z::ns.z."), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := wire("ns.z") + "\012hostmaster" + wire("z") + timers(1, 16384, 2048, 1048576, 2560)
	if string(got[0].RData) != want {
		t.Errorf("SOA rdata %q, want serial 1: %q", got[0].RData, want)
	}
}

func TestSplitFields(t *testing.T) {
	f := splitFields([]byte("a:b::d:e:f:g:h:i:j:k:l:m:n:o:p:q"))
	got := make([]string, len(f))
	for i, b := range f {
		got[i] = string(b)
	}
	want := []string{"a", "b", "", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}
