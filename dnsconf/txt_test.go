package dnsconf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

func TestSplitTXT(t *testing.T) {
	tests := []struct {
		name  string
		value string
		sizes []int // wire length of each character-string
	}{
		{"empty is one empty string", "", []int{0}},
		{"short", "100", []int{3}},
		{"255 bytes", strings.Repeat("a", 255), []int{255}},
		{"256 bytes", strings.Repeat("a", 256), []int{255, 1}},
		{"510 bytes", strings.Repeat("a", 510), []int{255, 255}},
		{"1000 bytes", strings.Repeat("a", 1000), []int{255, 255, 255, 235}},
		{"escaped bytes count once", strings.Repeat(`"\`+"\x00\xff", 100), []int{255, 145}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := &dns.TXT{Hdr: dns.RR_Header{Name: "k.dsas.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: SplitTXT(tt.value)}
			wire := make([]byte, dns.MaxMsgSize)
			end, err := dns.PackRR(rr, wire, 0, nil, false)
			if err != nil {
				t.Fatalf("pack: %v", err)
			}
			rdata := wire[end-int(rr.Hdr.Rdlength) : end]
			var sizes []int
			var joined []byte
			for len(rdata) > 0 {
				n := int(rdata[0])
				sizes = append(sizes, n)
				joined = append(joined, rdata[1:1+n]...)
				rdata = rdata[1+n:]
			}
			if diff := cmp.Diff(tt.sizes, sizes); diff != "" {
				t.Errorf("character-strings on the wire (-want +got):\n%s", diff)
			}
			if string(joined) != tt.value {
				t.Errorf("wire bytes differ from the value")
			}
			back, _, err := dns.UnpackRR(wire[:end], 0)
			if err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if got := JoinTXT(back.(*dns.TXT).Txt); got != tt.value {
				t.Errorf("JoinTXT after unpack = %q, want %q", got, tt.value)
			}
		})
	}
}

func TestJoinTXT(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{`a\"b`, `\\c`}, `a"b\c`},
		{[]string{`\065\000z`}, "A\x00z"},
		{[]string{`\06`}, "06"},
		{[]string{`dangling\`}, "dangling"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := JoinTXT(tt.in); got != tt.want {
			t.Errorf("JoinTXT(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
