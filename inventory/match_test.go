package inventory

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() Inventory {
	return Inventory{
		MAC:      "52:54:00:12:34:56",
		BootMode: BootUEFI,
		DMI:      DMI{Vendor: "Dell Inc.", Product: "PowerEdge R650", Serial: "S1"},
		CPU:      CPU{Model: "Xeon", Sockets: 2, Cores: 32, Threads: 64},
		Disks: []Disk{
			{Name: "vda", Path: "/dev/vda", Serial: "D1", SizeBytes: 8 << 30},
			{Name: "vdb", Path: "/dev/vdb", Serial: "D2", SizeBytes: 2 << 30},
		},
		NICs: []NIC{
			{Name: "eth0", MAC: "52:54:00:12:34:56", Link: true, LLDP: &LLDP{SwitchName: "tor-a12", PortID: "Ethernet1/7"}},
			{Name: "eth1", MAC: "52:54:00:12:34:57"},
		},
		BMC: &BMCLAN{IP: "10.0.9.5", MAC: "52:54:00:aa:bb:cc"},
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		want    bool
		compile string // a compile error's text, "" if it compiles
	}{
		{expr: `lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/([0-9]+)"`, want: true},
		{expr: `lldp.switch == "tor-a12" && lldp.port =~ "Ethernet2/([0-9]+)"`, want: false},
		{expr: `dmi.product == "PowerEdge R650"`, want: true},
		{expr: `dmi.product == "PowerEdge R750"`, want: false},
		{expr: `lldp.port matches "^Ethernet"`, want: true},
		{expr: `len(disks) == 2 && any(disks, .serial == "D2") && cpu.sockets >= 2`, want: true},
		{expr: `bmc.ip startsWith "10.0.9."`, want: true},
		// =~ inside a string literal is text, not the operator.
		{expr: `dmi.vendor != "a=~b" && 'x=~y' == "x=~y"`, want: true},
		{expr: `dmi.vendor =~ "=~"`, want: false},
		{expr: `lldp.swich == "tor-a12"`, compile: "swich"},
		{expr: `dmi.product`, compile: "bool"},
		{expr: ``, compile: "empty"},
		{expr: strings.Repeat(" ", MaxMatchLen) + "true", compile: "limit"},
	} {
		t.Run(tc.expr[:min(len(tc.expr), 40)], func(t *testing.T) {
			m, err := CompileMatch(tc.expr)
			if tc.compile != "" {
				if err == nil || !strings.Contains(err.Error(), tc.compile) {
					t.Fatalf("CompileMatch = %v, want an error naming %q", err, tc.compile)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Eval(sample())
			if err != nil || got != tc.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestMatchBounded: an expression that would allocate without bound
// fails when it runs (expr's memory budget), it does not exhaust the
// appliance.
func TestMatchBounded(t *testing.T) {
	for _, e := range []string{`len(repeat(dmi.vendor, 1000000000)) > 0`, `len(map(1..100000000, # * 2)) > 0`} {
		m, err := CompileMatch(e)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := m.Eval(sample()); ok || err == nil || !strings.Contains(err.Error(), "memory budget") {
			t.Errorf("%s: %v, %v", e, ok, err)
		}
	}
}

func TestRewriteMatches(t *testing.T) {
	for in, want := range map[string]string{
		`a =~ "x=~y"`:       `a  matches  "x=~y"`,
		`a=~'it\'s =~'`:     `a matches 'it\'s =~'`,
		"a =~ `raw\\` =~ b": "a  matches  `raw\\`  matches  b",
	} {
		if got := rewriteMatches(in); got != want {
			t.Errorf("rewriteMatches(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestEnv(t *testing.T) {
	e := Env(sample())
	lldp := e["lldp"].(map[string]any)
	if lldp["switch"] != "tor-a12" || lldp["port"] != "Ethernet1/7" {
		t.Errorf("lldp = %v", lldp)
	}
	if d := e["disks"].([]any); len(d) != 2 || d[1].(map[string]any)["serial"] != "D2" {
		t.Errorf("disks = %v", d)
	}
	if diff := cmp.Diff(map[string]any{"ip": "10.0.9.5", "mac": "52:54:00:aa:bb:cc"}, e["bmc"]); diff != "" {
		t.Error(diff)
	}
}
