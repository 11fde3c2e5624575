package dnsconf

import (
	"maps"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// The registry's Snapshot is what BuildZone reads in production.
var _ Source = (*registry.Snapshot)(nil)

// fakeSource is a hand-made Source for tests that need odd data the
// registry would refuse, or speed.
type fakeSource struct {
	systems  []*registry.System
	subnets  []*registry.Subnet
	settings map[string]string
	profiles map[string]map[string]string // profile -> settings
}

func (f *fakeSource) Systems() []*registry.System { return f.systems }
func (f *fakeSource) Subnets() []*registry.Subnet { return f.subnets }
func (f *fakeSource) Settings() map[string]string { return maps.Clone(f.settings) }
func (f *fakeSource) EffectiveSettings(sys *registry.System) map[string]string {
	out := maps.Clone(f.profiles[sys.Profile])
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, sys.Settings)
	return out
}

var applianceIP = netip.MustParseAddr("10.0.0.2")

// testSource: zone dsas, subnet 10.0.0.0/24, two systems, settings of
// every size that matters.
func testSource() *fakeSource {
	return &fakeSource{
		subnets: []*registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24"}},
		settings: map[string]string{
			"lvs.vrid": "100",
			"empty":    "",
			"quote":    `say "hi" \o/`,
			"big":      strings.Repeat("x", 1000),
			"huge":     strings.Repeat("y", 3000),
		},
		profiles: map[string]map[string]string{"web": {"role": "frontend", "rack": "r0"}},
		systems: []*registry.System{
			{Name: "db001", Hostname: "db.dsas", IP: "10.0.0.21", Profile: "db"},
			{Name: "web001", Hostname: "web001.dsas", IP: "10.0.0.11", Profile: "web", Settings: map[string]string{"rack": "r1"}},
		},
	}
}

// testStatic: operator records used by the Answer tests.
func testStatic(t testing.TB) []dns.RR {
	return []dns.RR{
		mustRR(t, "mail.dsas. 300 IN A 10.0.0.50"),
		mustRR(t, "alias.dsas. 300 IN CNAME web001.dsas."),
		mustRR(t, "gone.dsas. 300 IN CNAME nothing.dsas."),
		mustRR(t, "ext.dsas. 300 IN CNAME www.example.com."),
		mustRR(t, "loop1.dsas. 300 IN CNAME loop2.dsas."),
		mustRR(t, "loop2.dsas. 300 IN CNAME loop1.dsas."),
	}
}

func testZone(t testing.TB) *Zone {
	t.Helper()
	z, err := BuildZone(testSource(), Options{Origin: "dsas", Serial: 7, NS: applianceIP, Static: testStatic(t)})
	if err != nil {
		t.Fatal(err)
	}
	if p := z.Problems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	return z
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
