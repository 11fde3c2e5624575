package dnsconf

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
)

// fleetSource is n systems on 10.64.0.0/10 with 5 settings each (3 from
// their profile, 2 of their own) and 5 global settings.
func fleetSource(n int) *fakeSource {
	src := &fakeSource{
		subnets:  []*registry.Subnet{{Name: "fleet", CIDR: "10.64.0.0/10"}},
		settings: map[string]string{},
		profiles: map[string]map[string]string{"web": {"role": "web", "ntp.server": "10.64.0.1", "console": "ttyS0,115200"}},
	}
	for i := range 5 {
		src.settings[fmt.Sprintf("global%d", i)] = fmt.Sprintf("value %d", i)
	}
	for i := range n {
		src.systems = append(src.systems, &registry.System{
			Name: fmt.Sprintf("h%05d", i), Hostname: fmt.Sprintf("h%05d.dsas", i),
			IP: fmt.Sprintf("10.%d.%d.%d", 64+i>>16, i>>8&0xff, i&0xff), Profile: "web",
			Settings: map[string]string{"rack": fmt.Sprintf("r%03d", i/40), "serial": fmt.Sprintf("SN%08d", i)},
		})
	}
	return src
}

// indexedFleet is fleetSource(n) with its systems indexed by name, IP
// and hostname, as a registry Snapshot has them: a build from a Snapshot
// does not index them.
func indexedFleet(n int) hostSource {
	src := fleetSource(n)
	return hostSourceOf(src, src.systems)
}

// BenchmarkBuildZone: the whole zone of 1,000, 10,000 and 100,000
// systems with 5 settings each, as at start-up and after a change of
// subnets or static records (other changes are applied in place:
// BenchmarkPublish).
func BenchmarkBuildZone(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := indexedFleet(n)
			opts := Options{Origin: "dsas", NS: applianceIP}
			var z *Zone
			for b.Loop() {
				var err error
				if z, err = BuildZone(src, opts); err != nil {
					b.Fatal(err)
				}
			}
			if len(z.Problems()) > 0 || z.Len() < 8*n {
				b.Fatalf("%d records, problems %v", z.Len(), z.Problems())
			}
			b.ReportMetric(float64(z.Len()), "records")
		})
	}
}

// BenchmarkRecords: the sorted record list (for data.cdb or a zone file).
func BenchmarkRecords(b *testing.B) {
	src := fleetSource(10000)
	for b.Loop() {
		z, err := BuildZone(src, Options{Origin: "dsas", NS: applianceIP})
		if err != nil {
			b.Fatal(err)
		}
		z.Records()
	}
}

// BenchmarkAnswerTXT: one TXT query answered in-process, packed for UDP,
// from the 10,000-system zone.
func BenchmarkAnswerTXT(b *testing.B) {
	z, err := BuildZone(fleetSource(10000), Options{Origin: "dsas", NS: applianceIP})
	if err != nil {
		b.Fatal(err)
	}
	req := query("rack.h04711._host.dsas.", dns.TypeTXT, withEDNS(1232))
	b.ReportAllocs()
	for b.Loop() {
		if m, _ := answer(z, req, DefaultMaxUDP); len(m.Answer) != 1 {
			b.Fatalf("answer: %v", m)
		}
	}
}

// BenchmarkAnswerA: one A query and one PTR query of a system answered
// in-process, packed for UDP, from the 10,000-system zone: the view's
// slow path (the fast path answers from prepared bytes).
func BenchmarkAnswerA(b *testing.B) {
	z, err := BuildZone(indexedFleet(10000), Options{Origin: "dsas", NS: applianceIP})
	if err != nil {
		b.Fatal(err)
	}
	a, ptr := query("h04711.dsas.", dns.TypeA, withEDNS(1232)), query("103.18.64.10.in-addr.arpa.", dns.TypePTR, withEDNS(1232))
	b.ReportAllocs()
	for b.Loop() {
		if m, _ := answer(z, a, DefaultMaxUDP); len(m.Answer) != 1 {
			b.Fatalf("answer: %v", m)
		}
		if m, _ := answer(z, ptr, DefaultMaxUDP); len(m.Answer) != 1 {
			b.Fatalf("answer: %v", m)
		}
	}
}

// BenchmarkEncodeCDB: the 10,000-system zone as data.cdb bytes.
func BenchmarkEncodeCDB(b *testing.B) {
	z, err := BuildZone(fleetSource(10000), Options{Origin: "dsas", NS: applianceIP})
	if err != nil {
		b.Fatal(err)
	}
	z.Records()
	var n int
	for b.Loop() {
		data, err := EncodeCDB(z)
		if err != nil {
			b.Fatal(err)
		}
		n = len(data)
	}
	b.ReportMetric(float64(n)/(1<<20), "MiB")
}

// changing is a fleet indexed as a Snapshot is, with the lookups
// Zone.update asks of one; settingChange and systemsChange say what
// changed.
type changing struct {
	*fakeSource
	idx hostSource
}

func newChanging(src *fakeSource) changing { return changing{src, hostSourceOf(src, src.systems)} }

func (c changing) SystemByName(n string) (*registry.System, bool)    { return c.idx.SystemByName(n) }
func (c changing) SystemByIP(ip netip.Addr) (*registry.System, bool) { return c.idx.SystemByIP(ip) }
func (c changing) SystemByHostname(h string) (*registry.System, bool) {
	return c.idx.SystemByHostname(h)
}
func (c changing) Setting(k string) (string, bool) { v, ok := c.settings[k]; return v, ok }
func (c changing) SystemsOf(string) []string       { return nil }

// settingChange is a fleet whose one change since the zone was built is
// a global setting: what Zone.update is told by a registry Snapshot.
type settingChange struct{ changing }

func (c settingChange) ChangedSince(*registry.Snapshot) (registry.Changes, bool) {
	return registry.Changes{registry.ObjSetting: {"bench.value": true}}, true
}

// BenchmarkPublish: one global setting changed in the zone of 10,000 and
// 100,000 systems: the zone changed in place (Zone.update), then its
// data.cdb put together, as Server.Run does for every registry change.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := fleetSource(n)
			ch := settingChange{newChanging(src)}
			z, err := BuildZone(ch, Options{Origin: "dsas", NS: applianceIP, Serial: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := z.dataCDB(); err != nil {
				b.Fatal(err)
			}
			var cdbTime time.Duration
			for i := 0; b.Loop(); i++ {
				src.settings["bench.value"] = fmt.Sprint(i)
				next, ok := z.update(ch, Options{Origin: "dsas", NS: applianceIP, Serial: z.Serial() + 1})
				if !ok {
					b.Fatal("not updated in place")
				}
				start := time.Now()
				if _, _, err := next.dataCDB(); err != nil {
					b.Fatal(err)
				}
				cdbTime += time.Since(start)
				z = next
			}
			b.ReportMetric(float64(cdbTime.Microseconds())/1000/float64(b.N), "ms-cdb")
		})
	}
}

// BenchmarkZoneMemory reports the heap a zone holds (MiB-zone) and its
// data.cdb encoding adds (MiB-cdb), and adds once that is kept on disk
// (MiB-cdb-kept), at 1,000, 10,000 and 100,000 systems. The systems'
// indexes are the Snapshot's, not the zone's.
func BenchmarkZoneMemory(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			src := indexedFleet(n)
			dir := b.TempDir()
			var zone, enc, kept int64
			for b.Loop() {
				keep := newCDBPersister(dir, slog.New(slog.DiscardHandler))
				var m0, m1, m2, m3 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				z, err := BuildZone(src, Options{Origin: "dsas", NS: applianceIP, Serial: 1})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&m1)
				if _, _, err := z.dataCDB(); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&m2)
				keep.offer(z)
				keep.flush()
				runtime.GC()
				runtime.ReadMemStats(&m3)
				runtime.KeepAlive(z)
				zone, enc, kept = int64(m1.HeapAlloc-m0.HeapAlloc), int64(m2.HeapAlloc)-int64(m1.HeapAlloc), int64(m3.HeapAlloc)-int64(m1.HeapAlloc)
			}
			b.ReportMetric(float64(zone)/(1<<20), "MiB-zone")
			b.ReportMetric(float64(enc)/(1<<20), "MiB-cdb")
			b.ReportMetric(float64(kept)/(1<<20), "MiB-cdb-kept")
		})
	}
}
