package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stages of one machine's boot, in order; stBoot is the whole of it.
const (
	stDHCP1 = iota
	stTFTP
	stDHCP2
	stScript
	stKernel
	stInitrd
	stCDB
	stRootfs
	stBoot
	nStages
)

var stageNames = [nStages]string{"dhcp-pxe", "tftp", "dhcp-ipxe", "script", "kernel", "initrd", "data.cdb", "rootfs", "boot"}

// result is one machine's boot.
type result struct {
	index   int
	ok      [nStages]bool
	dur     [nStages]time.Duration
	retries [nStages]int
	bytes   [nStages]int64
	failed  int // the stage that failed, or -1
	err     error
}

// stageStats sums up one stage over all machines.
type stageStats struct {
	name                  string
	count, fail, retries  int
	p50, p99, max         time.Duration
	bytes                 int64
	skipped               bool // no machine ran it
	durations             []time.Duration
	stageIndex, attempted int
}

func summarize(rs []result) [nStages]stageStats {
	var st [nStages]stageStats
	for s := range st {
		st[s].name, st[s].stageIndex = stageNames[s], s
	}
	for _, r := range rs {
		for s := range nStages {
			st[s].retries += r.retries[s]
			st[s].bytes += r.bytes[s]
			if r.ok[s] {
				st[s].count++
				st[s].durations = append(st[s].durations, r.dur[s])
			}
		}
		if r.failed >= 0 {
			st[r.failed].fail++
			st[stBoot].fail++
		}
	}
	for s := range st {
		st[s].attempted = st[s].count + st[s].fail
		st[s].skipped = st[s].attempted == 0
		d := st[s].durations
		slices.Sort(d)
		st[s].p50, st[s].p99 = quantile(d, 0.50), quantile(d, 0.99)
		if len(d) > 0 {
			st[s].max = d[len(d)-1]
		}
	}
	st[stBoot].bytes = 0
	for s := range stBoot {
		st[stBoot].bytes += st[s].bytes
	}
	return st
}

// quantile is the nearest-rank quantile of sorted d.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.999999) - 1
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/1e6)
}

// report is what one storm measured, as printed and as written to -out.
type report struct {
	label       string
	n, conc     int
	wall        time.Duration
	stages      [nStages]stageStats
	linkBps     float64 // bytes per second, from -link-bps; 0 if unknown
	dhcpStray   uint64
	failReasons map[string]int
	clientCPU   time.Duration // this process's user + system time
}

func (r *report) total() int64 { return r.stages[stBoot].bytes }

// goodput is the bytes delivered per second of wall time.
func (r *report) goodput() float64 { return float64(r.total()) / r.wall.Seconds() }

func (r *report) limit() time.Duration {
	if r.linkBps <= 0 {
		return 0
	}
	return time.Duration(float64(r.total()) / r.linkBps * float64(time.Second))
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "storm %s: %d machines, %d at once\n", r.label, r.n, r.conc)
	fmt.Fprintf(w, "%-10s %6s %9s %9s %9s %8s %8s %14s\n", "stage", "count", "p50", "p99", "max", "failures", "retries", "bytes")
	for _, s := range r.stages {
		if s.skipped && s.stageIndex != stBoot {
			fmt.Fprintf(w, "%-10s %6s\n", s.name, "-")
			continue
		}
		fmt.Fprintf(w, "%-10s %6d %9s %9s %9s %8d %8d %14d\n", s.name, s.count, ms(s.p50), ms(s.p99), ms(s.max), s.fail, s.retries, s.bytes)
	}
	fmt.Fprintf(w, "wall %.2fs, total %d bytes (%.2f GB, %.0f MB/s)", r.wall.Seconds(), r.total(), float64(r.total())/1e9, r.goodput()/1e6)
	if r.linkBps > 0 {
		fmt.Fprintf(w, ", link %.0f MB/s, byte limit %.2fs, wall/limit %.2f", r.linkBps/1e6, r.limit().Seconds(), r.wall.Seconds()/r.limit().Seconds())
	}
	fmt.Fprintf(w, "\nmachines failed: %d of %d; DHCP replies to no one waiting: %d; storm's own CPU %.1fs\n",
		r.stages[stBoot].fail, r.n, r.dhcpStray, r.clientCPU.Seconds())
	reasons := make([]string, 0, len(r.failReasons))
	for k := range r.failReasons {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	for i, k := range reasons {
		if i == 10 {
			fmt.Fprintf(w, "  ... %d more kinds\n", len(reasons)-10)
			break
		}
		fmt.Fprintf(w, "  %d× %s\n", r.failReasons[k], k)
	}
}

// write writes the report as "key<TAB>value" lines, for -compare.
func (r *report) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	kv := func(k string, v any) { fmt.Fprintf(w, "%s\t%v\n", k, v) }
	kv("label", r.label)
	kv("machines", r.n)
	kv("at once", r.conc)
	kv("wall", fmt.Sprintf("%.2fs", r.wall.Seconds()))
	kv("booted", r.stages[stBoot].count)
	kv("total bytes", r.total())
	kv("MB/s delivered", fmt.Sprintf("%.0f", r.goodput()/1e6))
	if r.linkBps > 0 {
		kv("link MB/s", fmt.Sprintf("%.0f", r.linkBps/1e6))
		kv("byte limit", fmt.Sprintf("%.2fs", r.limit().Seconds()))
		kv("wall/limit", fmt.Sprintf("%.2f", r.wall.Seconds()/r.limit().Seconds()))
	}
	kv("failures", r.stages[stBoot].fail)
	retries := 0
	for _, s := range r.stages {
		retries += s.retries
	}
	kv("retries", retries)
	kv("client CPU", ms(r.clientCPU))
	for _, s := range r.stages {
		if s.skipped && s.stageIndex != stBoot {
			continue
		}
		kv(s.name+" p50", ms(s.p50))
		kv(s.name+" p99", ms(s.p99))
		kv(s.name+" max", ms(s.max))
		kv(s.name+" fail/retry", strconv.Itoa(s.fail)+"/"+strconv.Itoa(s.retries))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// compare prints report files (from -out) side by side, one column each,
// keys in the order of the first file.
func compare(w io.Writer, paths []string) error {
	var keys []string
	seen := map[string]bool{}
	cols := make([]map[string]string, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		cols[i] = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			cols[i][k] = v
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		fmt.Fprintf(w, "%-20s", k)
		for _, c := range cols {
			v, ok := c[k]
			if !ok {
				v = "-"
			}
			fmt.Fprintf(w, " %16s", v)
		}
		fmt.Fprintln(w)
	}
	return nil
}
