package networkd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// cases are the machines of the golden files, testdata/NAME.golden.
var cases = map[string][]Link{
	// a plain NIC carrying the system IP
	"plain": {
		{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01", Addresses: []string{"10.0.0.11/24"}, Gateway: "10.0.0.1", DNS: []string{"10.0.0.1", "10.0.0.2"}},
	},
	// a system added with --mac only: eth0 carries the IP, eth1 is left alone
	"mac-only": {
		{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01", Addresses: []string{"10.0.0.11/24"}, Gateway: "10.0.0.1", DNS: []string{"10.0.0.1"}},
		{Name: "eth1", Kind: Physical, MAC: "52:54:00:aa:bb:02"},
	},
	// VLANs on a NIC that carries no address itself
	"vlan-carrier": {
		{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01"},
		{Name: "eth0.10", Kind: VLAN, VLANParent: "eth0", VLANID: 10, Addresses: []string{"10.0.10.11/24"}, Gateway: "10.0.10.1"},
		{Name: "eth0.20", Kind: VLAN, VLANParent: "eth0", VLANID: 20, Addresses: []string{"10.0.20.11/24"}},
	},
	// active-backup over two NICs carrying the IP, VLAN 100 on it with an
	// extra address and MTU 9000
	"bond-vlan": {
		{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01"},
		{Name: "eth1", Kind: Physical, MAC: "52:54:00:aa:bb:02"},
		{Name: "bond0", Kind: Bond, BondMode: "active-backup", Members: []string{"eth0", "eth1"}, MTU: 9000,
			Addresses: []string{"10.0.0.11/24"}, Gateway: "10.0.0.1", DNS: []string{"10.0.0.1"}},
		{Name: "bond0.100", Kind: VLAN, VLANParent: "bond0", VLANID: 100, MTU: 9000, Addresses: []string{"10.0.100.11/24"}},
	},
}

func TestGolden(t *testing.T) {
	for name, links := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := Files(links)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, f := range files {
				b.WriteString("==> " + f.Name + " <==\n" + f.Content)
			}
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestKeys checks every key written against the sections and keys of
// systemd.network(5) and systemd.netdev(5) (systemd 252, Debian bookworm)
// that this package uses, so a typo cannot pass the golden files.
func TestKeys(t *testing.T) {
	known := map[string][]string{
		"NetDev":  {"Name", "Kind"},                                                                                // systemd.netdev(5) [NetDev]
		"Bond":    {"Mode", "MIIMonitorSec"},                                                                       // systemd.netdev(5) [Bond]
		"VLAN":    {"Id"},                                                                                          // systemd.netdev(5) [VLAN]
		"Match":   {"Name", "PermanentMACAddress"},                                                                 // systemd.network(5) [Match] (PermanentMACAddress= since v245)
		"Link":    {"MTUBytes", "RequiredForOnline"},                                                               // systemd.network(5) [Link] (RequiredForOnline= since v236)
		"Network": {"Address", "Gateway", "DNS", "Bond", "VLAN", "LinkLocalAddressing", "ConfigureWithoutCarrier"}, // systemd.network(5) [Network]
	}
	for name, links := range cases {
		files, err := Files(links)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			sec := ""
			for _, line := range strings.Split(strings.TrimSuffix(f.Content, "\n"), "\n") {
				switch {
				case line == "":
				case strings.HasPrefix(line, "["):
					sec = strings.Trim(line, "[]")
					if _, ok := known[sec]; !ok {
						t.Errorf("%s %s: unknown section %s", name, f.Name, line)
					}
				default:
					k, _, ok := strings.Cut(line, "=")
					if !ok || !contains(known[sec], k) {
						t.Errorf("%s %s: [%s] %q is not a known key", name, f.Name, sec, line)
					}
				}
			}
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestFilesRefuse(t *testing.T) {
	eth0 := Link{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01"}
	tests := []struct {
		name  string
		links []Link
		want  string
	}{
		{"newline in a name", []Link{{Name: "eth0\nX=1", Kind: Physical, MAC: "52:54:00:aa:bb:01"}}, "not an interface name"},
		{"slash in a name", []Link{{Name: "../x", Kind: Physical, MAC: "52:54:00:aa:bb:01"}}, "not an interface name"},
		{"mac not canonical", []Link{{Name: "eth0", Kind: Physical, MAC: "52-54-00-AA-BB-01"}}, `mac "52-54-00-AA-BB-01"`},
		{"unknown kind", []Link{{Name: "br0", Kind: "bridge"}}, `kind "bridge"`},
		{"bond mode", []Link{eth0, {Name: "bond0", Kind: Bond, BondMode: "lacp", Members: []string{"eth0"}}}, `bond mode "lacp"`},
		{"bond member missing", []Link{eth0, {Name: "bond0", Kind: Bond, BondMode: "802.3ad", Members: []string{"eth9"}}}, "member eth9 is not a physical link"},
		{"vlan id", []Link{eth0, {Name: "v", Kind: VLAN, VLANParent: "eth0", VLANID: 4095}}, "vlan id 4095"},
		{"vlan parent missing", []Link{eth0, {Name: "v", Kind: VLAN, VLANParent: "eth9", VLANID: 5}}, "parent eth9 is not a physical link or bond"},
		{"address not cidr", []Link{{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01", Addresses: []string{"10.0.0.5"}}}, `address "10.0.0.5"`},
		{"dns with a newline", []Link{{Name: "eth0", Kind: Physical, MAC: "52:54:00:aa:bb:01", DNS: []string{"10.0.0.1\n[Network]"}}}, "not an IP address"},
		{"twice", []Link{eth0, eth0}, "named twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Files(tt.links)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
