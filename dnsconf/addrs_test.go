package dnsconf

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// The A and PTR records the view serves make the same zone as records
// stored: a zone of systems of every kind the build's rules tell apart
// (clashes, names and hostnames that cannot be served, addresses in no
// reverse zone or in a /16's, names below an empty non-terminal or above
// a static record) is built with the view and without it, and both must
// hold the same records, names, problems and data.cdb, and answer every
// name alike.
func TestAddrView(t *testing.T) {
	src := &fakeSource{
		subnets:  []*registry.Subnet{{Name: "a", CIDR: "10.1.0.0/24"}, {Name: "b", CIDR: "10.2.0.0/16"}},
		settings: map[string]string{"web01": "a setting at a system's name", "lvs.vrid": "100"},
	}
	add := func(name, ip, hostname string) {
		src.systems = append(src.systems, &registry.System{Name: name, IP: ip, Hostname: hostname, Profile: "p"})
	}
	add("web01", "10.1.0.11", "web01.dsas")      // the plain case
	add("db01", "10.2.3.4", "db01.rack1.dsas")   // below an empty non-terminal, PTR in a /16
	add("db02", "10.2.3.5", "db02.rack1.dsas")   // sharing it
	add("ns", "10.1.0.53", "ns.dsas")            // the name server's name
	add("alias", "10.1.0.12", "web01.dsas")      // another's name as hostname
	add("Mixed", "10.1.0.13", "mixed.dsas")      // not as the registry spells names
	add("dupip", "10.1.0.11", "dupip.dsas")      // another's address
	add("six", "2001:db8::1", "six.dsas")        // not IPv4
	add("badhost", "10.1.0.14", "bad..host")     // a hostname that cannot be served
	add("nosubnet", "10.3.0.1", "nosubnet.dsas") // in no reverse zone
	add("ext", "10.1.0.15", "ext.example.com")   // hostname outside the zone
	add("twin1", "10.1.0.16", "twin.dsas")       // one hostname, two systems
	add("twin2", "10.1.0.17", "twin.dsas")
	add("deep.name", "10.2.9.9", "deep.name.dsas") // a name with a dot
	add("Alpha", "10.1.0.18", "alpha-up.dsas")     // takes alpha.dsas. from the next
	add("alpha", "10.1.0.19", "alpha.dsas")
	opts := Options{Origin: "dsas", NS: applianceIP, Serial: 3, Static: []dns.RR{
		mustRR(t, "foo.web01.dsas. 300 IN A 10.1.0.99"),  // below a system's name
		mustRR(t, "web01.dsas. 300 IN MX 10 mail.dsas."), // refused: the registry's
		mustRR(t, "mail.dsas. 300 IN A 10.1.0.25"),
	}}
	viewed, err := BuildZone(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	addrView = false
	stored, err := BuildZone(src, opts)
	addrView = true
	if err != nil {
		t.Fatal(err)
	}
	if !viewed.hosts.addrs || viewed.addrNodes == 0 || stored.addrNodes != 0 {
		t.Fatalf("the view serves %d records (on: %v), the stored zone %d", viewed.addrNodes, viewed.hosts.addrs, stored.addrNodes)
	}
	if viewed.nodes.n >= stored.nodes.n {
		t.Errorf("the view's zone stores %d names, the other %d", viewed.nodes.n, stored.nodes.n)
	}
	g, w := fmt.Sprint(viewed.Records()), fmt.Sprint(stored.Records())
	if g != w {
		t.Fatalf("records differ:\n view   %s\n stored %s", g, w)
	}
	probs := fmt.Sprint(viewed.Problems())
	if w := fmt.Sprint(stored.Problems()); probs != w || viewed.Len() != stored.Len() {
		t.Fatalf("problems or sizes differ (%d, %d records):\n view   %s\n stored %s", viewed.Len(), stored.Len(), probs, w)
	}
	for _, want := range []string{"already belongs to the appliance's name server", "web01.dsas. already belongs to system web01",
		"10.1.0.11 already belongs to system web01", "is not a valid DNS name: no PTR", "10.3.0.1 is in no subnet", "twin.dsas. already belongs to system twin1"} {
		if !strings.Contains(probs, want) {
			t.Errorf("no problem says %q: %s", want, probs)
		}
	}
	for name := range stored.nodes.all() { // empty non-terminals included
		if (viewed.node(name) == nil) != (stored.node(name) == nil) {
			t.Errorf("%s: exists in one zone only", name)
		}
	}
	gc, err1 := EncodeCDB(viewed)
	wc, err2 := EncodeCDB(stored)
	if err1 != nil || err2 != nil || !bytes.Equal(gc, wc) {
		t.Fatalf("data.cdb differs (%d and %d bytes; %v %v)", len(gc), len(wc), err1, err2)
	}
	names := []string{"rack1.dsas.", "name.dsas.", "nothing.dsas.", "web01.dsas.", "foo.web01.dsas.", "3.2.10.in-addr.arpa.",
		"9.2.10.in-addr.arpa.", "2.10.in-addr.arpa.", "11.0.1.10.in-addr.arpa.", "011.0.1.10.in-addr.arpa.", "99.0.1.10.in-addr.arpa.",
		"mixed.dsas.", "Mixed.dsas.", "ns.dsas.", "_host.dsas.", "twin.dsas.", "deep.name.dsas.", "1.0.3.10.in-addr.arpa."}
	for _, rr := range stored.Records() {
		names = append(names, rr.Header().Name)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		for _, qt := range []uint16{dns.TypeA, dns.TypePTR, dns.TypeTXT, dns.TypeMX, dns.TypeANY} {
			gm, _ := answer(viewed, query(name, qt), DefaultMaxUDP)
			wm, _ := answer(stored, query(name, qt), DefaultMaxUDP)
			if gm.String() != wm.String() {
				t.Errorf("%s %s: the view's zone answers\n%s\nthe other\n%s", name, dns.TypeToString[qt], gm, wm)
			}
		}
	}
}

// systemsChange is a fleet whose change since the zone was built is the
// systems named: what Zone.update is told by a registry Snapshot.
type systemsChange struct {
	changing
	changed map[string]bool
}

func (c systemsChange) ChangedSince(*registry.Snapshot) (registry.Changes, bool) {
	return registry.Changes{registry.ObjSystem: c.changed}, true
}

// A change that gives a name the view serves for one system (web01's
// hostname) to another (a new system of that name, which comes first)
// is left to a whole build, or made as one would: the registry refuses
// such clashes, other Sources may not.
func TestUpdateTakesViewedName(t *testing.T) {
	src := &fakeSource{subnets: []*registry.Subnet{{Name: "a", CIDR: "10.1.0.0/24"}}}
	src.systems = []*registry.System{{Name: "web01", IP: "10.1.0.11", Hostname: "www.dsas"}}
	opts := Options{Origin: "dsas", NS: applianceIP, Serial: 1}
	z, err := BuildZone(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if z.addrNodes != 3 {
		t.Fatalf("the view serves %d records, want 3", z.addrNodes)
	}
	next := &fakeSource{subnets: src.subnets, systems: append(slices.Clone(src.systems), &registry.System{Name: "www", IP: "10.1.0.12", Hostname: "www.example.com"})}
	opts.Serial = 2
	ch := systemsChange{newChanging(next), map[string]bool{"www": true}}
	want, err := BuildZone(next, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := z.update(ch, opts); ok {
		compareZones(t, "www added", got, want)
	}
}
