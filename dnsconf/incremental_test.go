package dnsconf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"github.com/provision/provision/dnsconf/cdb"
	"github.com/provision/provision/dnsconf/tinydns"
	"github.com/provision/provision/registry"
)

// TestUpdateMatchesBuild makes random changes to a registry and, after
// each, changes the zone (Zone.update) and builds it whole: both must
// hold the same records, empty non-terminals, problems and data.cdb.
// Every third version's data.cdb is kept on disk, as a server does: the
// changes after it read its parts' records from that file.
func TestUpdateMatchesBuild(t *testing.T) {
	reg := openRegistry(t)
	ctx := context.Background()
	opts := Options{Origin: "dsas", NS: applianceIP, SerialBase: 1000, Static: []dns.RR{mustRR(t, "mail.dsas. 300 IN A 10.0.0.25")}}
	build := func(snap *registry.Snapshot) *Zone {
		o := opts
		o.Serial = snap.Serial
		z, err := BuildZone(snap, o)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	// A /16 too: its addresses' reverse names are below empty
	// non-terminals (0.20.10.in-addr.arpa.).
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "wide", CIDR: "10.20.0.0/16"}); err != nil {
		t.Fatal(err)
	}
	z := build(reg.Snapshot())
	rng := rand.New(rand.NewPCG(7, 8))
	incremental, onDisk := 0, 0
	keep := newCDBPersister(t.TempDir(), slog.New(slog.DiscardHandler))
	for step := range 300 {
		name := fmt.Sprintf("h%02d", rng.IntN(30))
		ip := fmt.Sprintf("10.9.%d.%d", 4+rng.IntN(2), 10+rng.IntN(200))
		if rng.IntN(2) == 0 {
			ip = fmt.Sprintf("10.20.%d.%d", rng.IntN(40), 10+rng.IntN(200)) // few a /24: its name comes and goes
		}
		var err error
		switch k := rng.IntN(10); {
		case k < 4:
			_, err = reg.AddSystem(ctx, registry.System{Name: name, MACs: []string{fmt.Sprintf("02:01:00:00:00:%02x", rng.IntN(250))}, IP: ip,
				Hostname: []string{"", fmt.Sprintf("%s.rack%d.dsas", name, rng.IntN(8)), name + ".example.com"}[rng.IntN(3)],
				Profile:  []string{"web", "db"}[rng.IntN(2)], Settings: map[string]string{"n": fmt.Sprint(step)}})
		case k < 6:
			if sys, ok := reg.Snapshot().SystemByName(name); ok {
				next := sys.Clone()
				next.Settings = map[string]string{"k": fmt.Sprint(step)}
				if rng.IntN(3) == 0 {
					next.Name = fmt.Sprintf("h%02d", 30+rng.IntN(10))
				}
				_, err = reg.EditSystem(ctx, name, next)
			}
		case k < 7:
			err = reg.RemoveSystem(ctx, name)
		case k < 8 && rng.IntN(4) == 0: // in no record, but a new version
			_, err = reg.SetSecretSetting(ctx, fmt.Sprintf("p%d.password-hash", rng.IntN(3)), registry.Secret(fmt.Sprint("$6$", step)))
		case k < 8:
			_, err = reg.SetSetting(ctx, fmt.Sprintf("s%d.x", rng.IntN(5)), fmt.Sprint(step))
		case k < 9:
			err = reg.UnsetSetting(ctx, fmt.Sprintf("s%d.x", rng.IntN(5)))
		default:
			p, _ := reg.Snapshot().Profile("web")
			next := *p
			next.Settings = map[string]string{"role": fmt.Sprint("r", step)}
			_, err = reg.EditProfile(ctx, "web", next)
		}
		_ = err // conflicts and missing systems are refused: no new version
		snap := reg.Snapshot()
		if snap.Serial == z.Serial() {
			continue
		}
		o := opts
		o.Serial = snap.Serial
		next, ok := z.update(snap, o)
		if !ok {
			t.Fatalf("step %d: update refused a change of systems and settings", step)
		}
		incremental++
		want := build(snap)
		compareZones(t, fmt.Sprint("step ", step), next, want)
		z = next
		if incremental%3 == 0 {
			keep.offer(z)
			keep.flush()
			if f, _, _ := z.dataCDB(); keptParts(f) > 0 {
				onDisk++
			}
		}
	}
	if incremental < 100 || onDisk < 30 {
		t.Fatalf("only %d incremental updates, %d versions kept on disk", incremental, onDisk)
	}
}

// keptParts counts the parts of f whose records are read from a file.
func keptParts(f *cdbFile) int {
	n := 0
	for _, g := range f.groups {
		for _, c := range g.parts {
			if c.mem.Load() == nil && c.disk.Load() != nil {
				n++
			}
		}
	}
	return n
}

func compareZones(t *testing.T, what string, got, want *Zone) {
	t.Helper()
	if g, w := fmt.Sprint(got.Records()), fmt.Sprint(want.Records()); g != w {
		t.Fatalf("%s: records differ:\n got %s\nwant %s", what, g, w)
	}
	if got.Len() != want.Len() || got.nodes.n != want.nodes.n {
		t.Fatalf("%s: %d records, %d names; a whole build has %d, %d", what, got.Len(), got.nodes.n, want.Len(), want.nodes.n)
	}
	for name := range want.nodes.all() {
		if got.nodes.get(name) == nil {
			t.Fatalf("%s: %s missing (an empty non-terminal?)", what, name)
		}
	}
	if g, w := fmt.Sprint(got.Problems()), fmt.Sprint(want.Problems()); g != w || got.ProblemCount() != want.ProblemCount() {
		t.Fatalf("%s: problems differ:\n got %d %s\nwant %d %s", what, got.ProblemCount(), g, want.ProblemCount(), w)
	}
	gc, err1 := EncodeCDB(got)
	wc, err2 := EncodeCDB(want)
	if err1 != nil || err2 != nil || !bytes.Equal(gc, wc) {
		t.Fatalf("%s: data.cdb differs (%d and %d bytes; %v %v)", what, len(gc), len(wc), err1, err2)
	}
	// And it holds what tinydns.WriteCDB writes of the same records, in
	// a file that cdb.New checks whole (header, records, every slot).
	if g, w := cdbRecords(t, gc), cdbRecords(t, referenceCDB(t, want)); !slices.Equal(g, w) {
		t.Fatalf("%s: data.cdb holds %d records, tinydns.WriteCDB %d, or others", what, len(g), len(w))
	}
	// zonecfg takes the zone from the first SOA: the origin's comes first.
	r, _ := cdb.New(gc)
	var first tinydns.Record
	r.ForEach(func(k, d []byte) error {
		first, _ = tinydns.Decode(k, d)
		return errors.New("first only")
	})
	if rr, err := first.RR(); err != nil || rr.Header().Rrtype != dns.TypeSOA || rr.Header().Name != got.Origin() {
		t.Fatalf("%s: the first record of data.cdb is %v (%v), want the SOA of %s", what, rr, err, got.Origin())
	}
}

// referenceCDB is what tinydns.WriteCDB writes of z's records.
func referenceCDB(t *testing.T, z *Zone) []byte {
	t.Helper()
	var ref bytes.Buffer
	var recs []tinydns.Record
	for _, rr := range z.Records() {
		rec, err := tinydns.FromRR(rr)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := tinydns.WriteCDB(&ref, recs); err != nil {
		t.Fatal(err)
	}
	return ref.Bytes()
}

// cdbRecords checks a data.cdb and returns its records, sorted, each
// found again by its key.
func cdbRecords(t *testing.T, b []byte) []string {
	t.Helper()
	r, err := cdb.New(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	r.ForEach(func(key, data []byte) error {
		if !slices.ContainsFunc(r.FindAll(key), func(d []byte) bool { return bytes.Equal(d, data) }) {
			t.Fatalf("record of %q not found by its key", key)
		}
		out = append(out, string(key)+"\x00"+string(data))
		return nil
	})
	slices.Sort(out)
	return out
}

// TestUpdateRefuses: what only a whole build can decide is not changed
// in place.
func TestUpdateRefuses(t *testing.T) {
	reg := openRegistry(t)
	ctx := context.Background()
	opts := Options{Origin: "dsas", NS: applianceIP}
	opts.Serial = reg.Snapshot().Serial
	z, err := BuildZone(reg.Snapshot(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "new", CIDR: "10.7.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	opts.Serial = reg.Snapshot().Serial
	if _, ok := z.update(reg.Snapshot(), opts); ok {
		t.Error("a new subnet (a new reverse zone) was applied in place")
	}
	if _, ok := z.update(fakeOnly{reg.Snapshot()}, opts); ok {
		t.Error("a Source that cannot say what changed was applied in place")
	}
	other := opts
	other.NS = netip.MustParseAddr("10.0.0.99")
	if _, ok := z.update(reg.Snapshot(), other); ok {
		t.Error("new Options were applied in place")
	}
}

// fakeOnly hides everything but Source.
type fakeOnly struct{ Source }
