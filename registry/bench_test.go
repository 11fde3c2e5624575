package registry

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fleet returns a registry (on disk) holding n systems on 172.16.0.0/16.
func fleet(b *testing.B, n int) *Registry {
	b.Helper()
	r, _ := openTest(b)
	var doc strings.Builder
	doc.WriteString("subnets:\n  - {name: big, cidr: 172.16.0.0/12, gateway: 172.16.0.1}\nsystems:\n")
	for i := range n {
		fmt.Fprintf(&doc, "  - {name: h%06d, macs: [\"%s\"], ip: %s, profile: web}\n", i, benchMAC(i), benchIP(i))
	}
	if _, err := r.Import(context.Background(), []byte(doc.String()), false); err != nil {
		b.Fatal(err)
	}
	return r
}

func benchMAC(i int) string {
	return fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
}

// benchIP is the IP of system i in 172.16.0.0/12: 250 to a /24, from
// 172.16.1.0/24 up.
func benchIP(i int) string {
	j := 1 + i/250
	return fmt.Sprintf("172.%d.%d.%d", 16+j/256, j%256, 2+i%250)
}

// BenchmarkSystemAdd: one `system add` (validate, commit with fsync,
// publish) with 1,000, 10,000 and 100,000 systems present.
func BenchmarkSystemAdd(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := fleet(b, n)
			ctx := context.Background()
			i := n
			for b.Loop() {
				if _, err := r.AddSystem(ctx, System{Name: fmt.Sprintf("h%06d", i), MACs: []string{benchMAC(i)}, IP: benchIP(i), Profile: "web"}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkLookupByMAC(b *testing.B) {
	snap := fleet(b, 10000).Snapshot()
	macs := make([]net.HardwareAddr, 10000)
	for i := range macs {
		macs[i], _ = net.ParseMAC(benchMAC(i))
	}
	i := 0
	for b.Loop() {
		if _, ok := snap.SystemByMAC(macs[i%len(macs)]); !ok {
			b.Fatal("not found")
		}
		i++
	}
}

func BenchmarkLookupByIP(b *testing.B) {
	snap := fleet(b, 10000).Snapshot()
	ips := make([]netip.Addr, 10000)
	for i := range ips {
		ips[i] = netip.MustParseAddr(benchIP(i))
	}
	i := 0
	for b.Loop() {
		if _, ok := snap.SystemByIP(ips[i%len(ips)]); !ok {
			b.Fatal("not found")
		}
		i++
	}
}

// BenchmarkSnapshotMemory reports the heap held by a Snapshot of 1,000,
// 10,000 and 100,000 systems (built from the database, as at start-up).
func BenchmarkSnapshotMemory(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := fleet(b, n)
			var held uint64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				d, err := r.store.Load(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				s, _ := build(d, "dsas")
				runtime.GC()
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(s)
				held = after.HeapAlloc - before.HeapAlloc
			}
			b.ReportMetric(float64(held)/(1<<20), "MiB")
		})
	}
}

// fleetDoc is an import document of n new systems on 172.16.0.0/12, each
// with five settings, as a fleet is moved onto the appliance.
func fleetDoc(n int) []byte {
	var doc strings.Builder
	doc.WriteString("subnets:\n  - {name: big, cidr: 172.16.0.0/12, gateway: 172.16.0.1}\nsystems:\n")
	for i := range n {
		fmt.Fprintf(&doc, "  - {name: h%06d, macs: [\"%s\"], ip: %s, profile: web, netboot: true, settings: {mysql.server_id: \"%d\", k1: v1, k2: v2, k3: v3, k4: v4}}\n",
			i, benchMAC(i), benchIP(i), i)
	}
	return []byte(doc.String())
}

// BenchmarkImport: one import of 1,000, 10,000 and 100,000 new systems
// into an empty registry on disk (parse, validate, one transaction,
// publish), reported in ms per import, and the CPU time the process
// spent meanwhile (user and system, every thread) in ms-cpu.
func BenchmarkImport(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			doc := fleetDoc(n)
			var total, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				r, _ := openTest(b)
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime(b)
				rep, err := r.Import(context.Background(), doc, false)
				total += time.Since(t0)
				cpu += cpuTime(b) - c0
				if err != nil {
					b.Fatal(err)
				}
				if len(rep.Added) != n+1 {
					b.Fatalf("added %d objects, want %d", len(rep.Added), n+1)
				}
				b.StopTimer()
				r.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "ms-cpu")
		})
	}
}
