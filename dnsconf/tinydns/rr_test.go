package tinydns

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/provision/provision/dnsconf/cdb"
)

// TestAppliancePath follows the appliance: zone records (miekg/dns) become
// a data.cdb through FromRR and WriteCDB; Lookup reads them back; Format
// exports them as data lines that compile to the same data.cdb.
func TestAppliancePath(t *testing.T) {
	zone := []string{
		"lab.example.\t3600\tIN\tSOA\tprov.lab.example. hostmaster.lab.example. 42 16384 2048 1048576 2560",
		"lab.example.\t3600\tIN\tNS\tprov.lab.example.",
		"prov.lab.example.\t300\tIN\tA\t192.0.2.1",
		"web001.lab.example.\t300\tIN\tA\t192.0.2.10",
		"10.2.0.192.in-addr.arpa.\t300\tIN\tPTR\tweb001.lab.example.",
		"web001.lab.example.\t300\tIN\tTXT\t\"provision.role=web\" \"provision.disk=/dev/sda\"",
		"web001.lab.example.\t300\tIN\tTXT\t\"" + strings.Repeat("k", 255) + "\"",
		"web001.lab.example.\t300\tIN\tAAAA\t2001:db8::10",
		"*.apps.lab.example.\t300\tIN\tCNAME\tweb001.lab.example.",
		"lab.example.\t300\tIN\tMX\t10 mail.lab.example.",
	}
	var recs []Record
	for _, s := range zone {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("NewRR(%q): %v", s, err)
		}
		r, err := FromRR(rr)
		if err != nil {
			t.Fatalf("FromRR(%q): %v", s, err)
		}
		recs = append(recs, r)
	}
	if diff := cmp.Diff(strings.Join(zone, "\n"), zoneText(t, recs)); diff != "" {
		t.Fatalf("FromRR then RR (-want +got):\n%s", diff)
	}
	var direct bytes.Buffer
	if err := WriteCDB(&direct, recs); err != nil {
		t.Fatal(err)
	}
	checkLookup(t, direct.Bytes(), "WEB001.lab.example", TypeTXT, strings.Join(zone[5:7], "\n"))
	var text bytes.Buffer
	if err := Format(&text, recs); err != nil {
		t.Fatal(err)
	}
	var compiled bytes.Buffer
	if err := Compile(&text, 1, &compiled); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(compiled.Bytes(), direct.Bytes()); i >= 0 {
		t.Errorf("compiled export differs from WriteCDB output at offset %d", i)
	}
}

func checkLookup(t *testing.T, file []byte, name string, qtype uint16, want string) {
	t.Helper()
	r, err := cdb.New(file)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := Lookup(r, name, qtype)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, zoneText(t, recs)); diff != "" {
		t.Errorf("Lookup(%s) (-want +got):\n%s", name, diff)
	}
}

func TestNewRecord(t *testing.T) {
	got, err := NewRecord("*.Apps.lab.example.", TypeTXT, 60, TXTRData([]byte("hi")))
	if err != nil {
		t.Fatal(err)
	}
	want := rec(wire("apps.lab.example"), TypeTXT, 60, "\002hi", wildcard)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewRecord (-want +got):\n%s", diff)
	}
	if _, err := NewRecord("x", TypeLocation, 1, nil); err == nil {
		t.Error("NewRecord of type 0 succeeded")
	}
	if _, err := NewRecord(strings.Repeat("a", 64), TypeA, 1, nil); err == nil {
		t.Error("NewRecord of a 64-byte label succeeded")
	}
	if _, err := (Record{Key: []byte("\000%")}).RR(); err == nil {
		t.Error("RR of a location entry succeeded")
	}
}
