package registry

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// settingsFleet is fleet with issue 34's systems: each with five
// settings of its own (one unique to it, four all systems share) on a
// profile with one setting.
func settingsFleet(b *testing.B, n int) *Registry {
	b.Helper()
	r, _ := openTest(b)
	var doc strings.Builder
	doc.WriteString("subnets:\n  - {name: big, cidr: 172.16.0.0/12, gateway: 172.16.0.1}\n")
	doc.WriteString("profiles:\n  - {name: web, image: centos, settings: {role: web}}\nsystems:\n")
	for i := range n {
		fmt.Fprintf(&doc, "  - {name: h%06d, macs: [\"%s\"], ip: %s, profile: web, netboot: true, settings: {mysql.server_id: \"%d\", k1: v1, k2: v2, k3: v3, k4: v4}}\n",
			i, benchMAC(i), benchIP(i), i)
	}
	if _, err := r.Import(context.Background(), []byte(doc.String()), false); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkLoad: what a start-up does with the registry (Open: the
// Store's Load, then the first Snapshot built from it) with 1,000, 10,000
// and 100,000 systems of five settings each, on the test store (SQLite on
// disk, or PostgreSQL with PROVISION_TEST_STORE=postgres). MiB-held is
// the heap the Snapshot holds once loaded; ms-cpu the CPU time Open took
// (all its goroutines, and the database's work with SQLite), a figure
// that other work on a busy machine does not change as much as ns/op.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := settingsFleet(b, n)
			ctx := context.Background()
			var held uint64
			var cpu time.Duration
			for b.Loop() {
				var before, after runtime.MemStats
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&before)
				cpu0 := cpuTime(b)
				b.StartTimer()
				got, err := Open(ctx, r.store, "dsas")
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime(b) - cpu0
				if c := got.Snapshot().Count(ObjSystem); c != n {
					b.Fatalf("loaded %d systems, want %d", c, n)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(got)
				held = after.HeapAlloc - before.HeapAlloc
				b.StartTimer()
			}
			b.ReportMetric(float64(held)/(1<<20), "MiB-held")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "ms-cpu")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
