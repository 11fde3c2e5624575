// Command storm plays N machines network-booting at once against a boot
// server, the way a BIOS PXE ROM and then iPXE do it, and reports how long
// each stage took: DHCP (DISCOVER, OFFER, REQUEST, ACK, as a PXE client,
// arch 0), the boot file the OFFER names over TFTP (undionly.kpxe), DHCP
// again as iPXE (user class "iPXE"), the boot script the second ACK names
// over HTTP, the kernel and initrd the script names, and /zone/data.cdb;
// with -rootfs, then a disk image's rootfs as a deploy fetches it (after
// data.cdb, as the boot environment's /init does), resumed with a Range
// request when a download is cut, as its wget -c is.
//
//	storm -iface veth0 -n 1000                   # what the servers say
//	storm -iface veth0 -n 100 -http http://10.77.0.1 -script /boot.ipxe
//	storm -iface veth0 -n 100 -rootfs /images/debian/rootfs  # a deploy storm
//	storm -measure http://10.77.0.1/images/x/initrd -streams 1,4,16
//	storm -compare provision.tsv classic.tsv     # side by side
//
// Every machine has its own MAC (52:54:00 and its index on 24 bits) and
// transaction IDs; all share one DHCP socket (see dhcpClient). Its HTTP
// goes from the address its ACK gave, which the client interface must
// have (bench/storm.sh adds them), unless -bind=false. It needs root
// (port 68, SO_BINDTODEVICE). bench/storm.sh runs it against provision
// and against dnsmasq with nginx, in network namespaces.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

type config struct {
	n, first, conc int
	macPrefix      string
	ramp           time.Duration

	iface, dhcpServer string
	dhcpRetrans       time.Duration
	dhcpResends       int
	ipxeDHCP          bool

	tftpAddr, bootFile string
	tftpBlksize        int
	tftpTimeout        time.Duration
	tftpResends        int
	tftpAttempts       int

	httpBase, script, kernel, initrd, cdb, rootfs string
	httpTimeout                                   time.Duration
	httpAttempts                                  int
	bind                                          bool

	sums        map[string]string // by file name: kernel, initrd, data.cdb, rootfs
	verifyEvery int
	until       int // the last stage to run
}

func main() {
	var (
		cfg        config
		label, out string
		linkMBps   float64
		sumsFile   string
		timeout    time.Duration
		progress   time.Duration

		measureURL, streams, measureFrom, measureBytes string
		compareMode                                    bool
		until                                          string
	)
	flag.IntVar(&cfg.n, "n", 100, "machines")
	flag.IntVar(&cfg.first, "first", 1, "index of the first machine: its MAC is -mac-prefix and the index on 24 bits")
	flag.StringVar(&cfg.macPrefix, "mac-prefix", "52:54:00", "first three bytes of every MAC")
	flag.IntVar(&cfg.conc, "concurrency", 0, "machines booting at once (0: all of them)")
	flag.DurationVar(&cfg.ramp, "ramp", 0, "power the machines on evenly over this long (0: all at the same instant)")
	flag.StringVar(&cfg.iface, "iface", "", "client-side interface for DHCP (required)")
	flag.StringVar(&cfg.dhcpServer, "dhcp-server", "255.255.255.255:67", "where DHCP requests go")
	flag.DurationVar(&cfg.dhcpRetrans, "dhcp-retransmit", time.Second, "resend a DHCP message after this long plus up to as much again of jitter")
	flag.IntVar(&cfg.dhcpResends, "dhcp-resends", 5, "DHCP retransmissions of one message (and restarts after a NAK) before the machine fails")
	flag.BoolVar(&cfg.ipxeDHCP, "ipxe-dhcp", true, "after TFTP, DHCP again as iPXE (user class iPXE) and take the boot script URL from that ACK")
	flag.StringVar(&cfg.tftpAddr, "tftp", "", "TFTP server HOST:PORT (default: the OFFER's siaddr, else option 66, port 69)")
	flag.StringVar(&cfg.bootFile, "boot-file", "", "TFTP file to fetch (default: the one the ACK names)")
	flag.IntVar(&cfg.tftpBlksize, "tftp-blksize", 1432, "TFTP blksize option (PXE ROMs ask 1432-1468)")
	flag.DurationVar(&cfg.tftpTimeout, "tftp-timeout", 2*time.Second, "TFTP wait for each packet before resending")
	flag.IntVar(&cfg.tftpResends, "tftp-resends", 5, "TFTP sends of one packet")
	flag.IntVar(&cfg.tftpAttempts, "tftp-attempts", 3, "TFTP transfers tried before the machine fails")
	flag.StringVar(&cfg.httpBase, "http", "", "HTTP base URL for -script, -kernel, -initrd, -cdb, -rootfs (default: that of the script URL from DHCP)")
	flag.StringVar(&cfg.script, "script", "", "boot script path under -http (default: the URL the iPXE ACK names)")
	flag.StringVar(&cfg.kernel, "kernel", "", "kernel path under -http (default: the script's kernel line)")
	flag.StringVar(&cfg.initrd, "initrd", "", "initrd path under -http (default: the script's initrd line)")
	flag.StringVar(&cfg.cdb, "cdb", "/zone/data.cdb", "data.cdb path under -http (empty: skip)")
	flag.StringVar(&cfg.rootfs, "rootfs", "", "a disk image's rootfs path under -http, fetched after data.cdb as a deploy does, resumed with Range on a retry (empty: skip)")
	flag.DurationVar(&cfg.httpTimeout, "http-timeout", 5*time.Minute, "limit on one HTTP download")
	flag.IntVar(&cfg.httpAttempts, "http-attempts", 3, "HTTP tries of one file before the machine fails")
	flag.BoolVar(&cfg.bind, "bind", true, "HTTP from the machine's leased address (the client interface must have it)")
	flag.StringVar(&sumsFile, "sums", "", "sha256sum(1) file naming kernel, initrd, data.cdb, rootfs: checked by every -verify-every'th machine")
	flag.IntVar(&cfg.verifyEvery, "verify-every", 0, "check the SHA-256 of the files on machines 0, K, 2K... (0: lengths only)")
	flag.StringVar(&until, "until", "rootfs", "stop each machine after this stage ("+strings.Join(stageNames[:stBoot], ", ")+")")
	flag.StringVar(&label, "label", "storm", "name of this run in the report")
	flag.StringVar(&out, "out", "", "also write the report as key<TAB>value lines here, for -compare")
	flag.Float64Var(&linkMBps, "link-mbps", 0, "HTTP throughput of the link in MB/s (10^6 bytes), for the byte limit")
	flag.DurationVar(&timeout, "timeout", 30*time.Minute, "give up on the whole storm after this long")
	flag.DurationVar(&progress, "progress", 5*time.Second, "print progress to stderr this often (0: never)")
	flag.StringVar(&measureURL, "measure", "", "measure mode: HTTP throughput of downloading this URL")
	flag.StringVar(&streams, "streams", "1,4,16", "measure mode: parallel downloads, a comma-separated list")
	flag.StringVar(&measureBytes, "measure-bytes", "2G", "measure mode: bytes per measurement (K, M, G suffixes)")
	flag.StringVar(&measureFrom, "measure-from", "", "measure mode: local address to download from")
	flag.BoolVar(&compareMode, "compare", false, "compare mode: print the -out files given as arguments side by side")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	switch {
	case compareMode:
		if err := compare(os.Stdout, flag.Args()); err != nil {
			fatal(err)
		}
		return
	case measureURL != "":
		budget, err := parseSize(measureBytes)
		if err != nil {
			fatal(err)
		}
		var ss []int
		for _, f := range strings.Split(streams, ",") {
			s, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || s < 1 {
				fatal(fmt.Errorf("-streams %q: want positive integers", streams))
			}
			ss = append(ss, s)
		}
		var local net.IP
		if measureFrom != "" {
			if local = net.ParseIP(measureFrom); local == nil {
				fatal(fmt.Errorf("-measure-from %q is not an IP address", measureFrom))
			}
		}
		best, err := runMeasure(ctx, os.Stdout, measureURL, local, ss, budget)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("best %.0f MB/s\n", best/1e6)
		return
	}
	if cfg.iface == "" {
		fatal(errors.New("-iface is required"))
	}
	if cfg.n < 1 || cfg.first < 0 || cfg.first+cfg.n > 1<<24 {
		fatal(errors.New("-n and -first must name machines 0 to 2^24-1"))
	}
	cfg.until = -1
	for i, name := range stageNames[:stBoot] {
		if name == until {
			cfg.until = i
		}
	}
	if cfg.until < 0 {
		fatal(fmt.Errorf("-until %q: not a stage", until))
	}
	if cfg.conc <= 0 || cfg.conc > cfg.n {
		cfg.conc = cfg.n
	}
	if _, err := net.ParseMAC(cfg.macPrefix + ":00:00:00"); err != nil {
		fatal(fmt.Errorf("-mac-prefix %q: %w", cfg.macPrefix, err))
	}
	if sumsFile != "" {
		var err error
		if cfg.sums, err = readSums(sumsFile); err != nil {
			fatal(err)
		}
	}
	dc, err := newDHCPClient(cfg.iface, cfg.dhcpServer)
	if err != nil {
		fatal(err)
	}
	defer dc.Close()

	rep := storm(ctx, &cfg, dc, progress)
	rep.label = label
	rep.linkBps = linkMBps * 1e6
	rep.print(os.Stdout)
	if out != "" {
		if err := rep.write(out); err != nil {
			fatal(err)
		}
	}
	if rep.stages[stBoot].fail > 0 {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "storm:", err)
	os.Exit(2)
}

// storm boots every machine, cfg.conc at a time, and sums them up.
func storm(ctx context.Context, cfg *config, dc *dhcpClient, progress time.Duration) *report {
	results := make([]result, cfg.n)
	sem := make(chan struct{}, cfg.conc)
	var (
		wg                 sync.WaitGroup
		done, failed, busy atomic.Int64
		bytes              atomic.Int64
	)
	start := time.Now()
	stopProgress := make(chan struct{})
	if progress > 0 {
		go func() {
			t := time.NewTicker(progress)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case <-t.C:
					fmt.Fprintf(os.Stderr, "storm: %5.1fs: %d done, %d failed, %d booting, %.2f GB\n",
						time.Since(start).Seconds(), done.Load(), failed.Load(), busy.Load(), float64(bytes.Load())/1e9)
				}
			}
		}()
	}
	for i := range cfg.n {
		if cfg.ramp > 0 && cfg.n > 1 {
			at := start.Add(cfg.ramp * time.Duration(i) / time.Duration(cfg.n-1))
			if sleep(ctx, time.Until(at)) != nil {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			results[i] = result{index: cfg.first + i, failed: stDHCP1, err: ctx.Err()}
			continue
		}
		wg.Add(1)
		busy.Add(1)
		go func() {
			defer wg.Done()
			r := boot(ctx, cfg, dc, cfg.first+i, &bytes)
			results[i] = r
			busy.Add(-1)
			done.Add(1)
			if r.failed >= 0 {
				failed.Add(1)
			}
			<-sem
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	close(stopProgress)
	rep := &report{n: cfg.n, conc: cfg.conc, wall: wall, stages: summarize(results),
		dhcpStray: dc.stray.Load(), failReasons: map[string]int{}, clientCPU: cpuTime()}
	for _, r := range results {
		if r.failed >= 0 {
			rep.failReasons[stageNames[r.failed]+": "+generic(r.err)]++
		}
	}
	return rep
}

// generic drops what differs from machine to machine (addresses, ports)
// from an error, so that failures of one kind count together.
func generic(err error) string {
	if err == nil {
		return "?"
	}
	var b strings.Builder
	msg := strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' ' // a TFTP error's NUL, a newline
		}
		return r
	}, err.Error())
	for _, w := range strings.Fields(msg) {
		switch {
		case strings.ContainsAny(w, "0123456789") && (strings.Count(w, ".") >= 3 || strings.Count(w, ":") >= 2):
			w = "ADDR"
		case isDuration(strings.TrimRight(w, ",;:")):
			w = "T"
		}
		b.WriteString(w + " ")
	}
	return strings.TrimSpace(b.String())
}

// cpuTime is the user and system time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func isDuration(w string) bool {
	_, err := time.ParseDuration(w)
	return err == nil && strings.ContainsAny(w, "0123456789")
}

func machineMAC(prefix string, i int) net.HardwareAddr {
	m, _ := net.ParseMAC(fmt.Sprintf("%s:%02x:%02x:%02x", prefix, i>>16&255, i>>8&255, i&255))
	return m
}

// boot is one machine, from power-on to data.cdb, or to its rootfs.
func boot(ctx context.Context, cfg *config, dc *dhcpClient, idx int, total *atomic.Int64) (r result) {
	r = result{index: idx, failed: -1}
	p := &dhcpProfile{mac: machineMAC(cfg.macPrefix, idx), retrans: cfg.dhcpRetrans, resends: cfg.dhcpResends}
	copy(p.uuid[:], "storm-machine\x00\x00\x00")
	binary.BigEndian.PutUint32(p.uuid[12:], uint32(idx))
	begin := time.Now()
	stage := func(s int, fn func() (int64, error)) bool {
		if s > cfg.until {
			return false
		}
		t := time.Now()
		n, err := fn()
		if err != nil {
			r.failed, r.err = s, err
			return false
		}
		r.ok[s], r.dur[s], r.bytes[s] = true, time.Since(t), n
		total.Add(n)
		return true
	}
	defer func() {
		if r.failed < 0 {
			r.ok[stBoot], r.dur[stBoot] = true, time.Since(begin)
		}
	}()

	// 1. The PXE ROM: DORA, then the boot file the ACK names.
	var ack *dhcpv4.DHCPv4
	if !stage(stDHCP1, func() (int64, error) {
		var err error
		ack, err = dc.dora(ctx, p, &r.retries[stDHCP1])
		return 0, err
	}) {
		return r
	}
	ip := ack.YourIPAddr.To4()
	file := bootFileOf(ack)
	if cfg.bootFile != "" {
		file = cfg.bootFile
	}
	tftpAddr := cfg.tftpAddr
	if tftpAddr == "" {
		host := ack.ServerIPAddr.String()
		if ack.ServerIPAddr.IsUnspecified() || ack.ServerIPAddr == nil {
			host = ack.TFTPServerName()
		}
		tftpAddr = net.JoinHostPort(host, "69")
	}
	if !stage(stTFTP, func() (int64, error) {
		if file == "" {
			return 0, errors.New("the ACK names no boot file")
		}
		return tftpGet(ctx, tftpAddr, file, cfg.tftpBlksize, cfg.tftpTimeout, cfg.tftpResends, cfg.tftpAttempts, &r.retries[stTFTP])
	}) {
		return r
	}

	// 2. iPXE: DHCP again; the ACK names the script.
	scriptURL := file
	if cfg.ipxeDHCP {
		if !stage(stDHCP2, func() (int64, error) {
			ip := &dhcpProfile{ipxe: true, mac: p.mac, uuid: p.uuid, retrans: p.retrans, resends: p.resends}
			ack2, err := dc.dora(ctx, ip, &r.retries[stDHCP2])
			if err != nil {
				return 0, err
			}
			if !ack2.YourIPAddr.Equal(ack.YourIPAddr) {
				return 0, fmt.Errorf("iPXE got %s, the PXE ROM %s", ack2.YourIPAddr, ack.YourIPAddr)
			}
			scriptURL = bootFileOf(ack2)
			return 0, nil
		}) {
			return r
		}
	}
	if cfg.until < stScript {
		return r
	}
	base := cfg.httpBase
	if cfg.script != "" {
		scriptURL = strings.TrimRight(base, "/") + cfg.script
	}
	u, err := url.Parse(scriptURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		r.failed, r.err = stScript, fmt.Errorf("boot script %q is not an HTTP URL (give -http and -script)", scriptURL)
		return r
	}
	if base == "" {
		base = u.Scheme + "://" + u.Host
	}
	base = strings.TrimRight(base, "/")

	var local net.IP
	if cfg.bind {
		local = ip
	}
	hc := httpClient(local, 30*time.Second)
	defer hc.Transport.(*http.Transport).CloseIdleConnections()
	verify := cfg.sums != nil && cfg.verifyEvery > 0 && idx%cfg.verifyEvery == 0
	get := func(s int, u string, keep bool) ([]byte, bool) {
		var body []byte
		ok := stage(s, func() (int64, error) {
			sum := ""
			if verify {
				sum = cfg.sums[path.Base(u)]
			}
			resume := s == stRootfs // wget -c, as the deployer's fetch
			n, b, err := httpGet(ctx, hc, u, cfg.httpTimeout, cfg.httpAttempts, sum, keep, resume, &r.retries[s])
			body = b
			return n, err
		})
		return body, ok
	}

	// 3. The script, then what it names.
	script, ok := get(stScript, scriptURL, true)
	if !ok {
		return r
	}
	if cfg.until < stKernel {
		return r
	}
	kernelURL, initrdURL := scriptFiles(script)
	if cfg.kernel != "" {
		kernelURL = base + cfg.kernel
	}
	if cfg.initrd != "" {
		initrdURL = base + cfg.initrd
	}
	if kernelURL == "" {
		r.failed, r.err = stKernel, fmt.Errorf("the script names no kernel: %q", firstLines(script, 4))
		return r
	}
	if _, ok := get(stKernel, kernelURL, false); !ok {
		return r
	}
	if initrdURL != "" {
		if _, ok := get(stInitrd, initrdURL, false); !ok {
			return r
		}
	}

	// 4. The booted system reads its settings.
	if cfg.cdb != "" {
		if _, ok := get(stCDB, base+cfg.cdb, false); !ok {
			return r
		}
	}

	// 5. A deploy: the boot environment fetches the disk image's rootfs.
	if cfg.rootfs != "" {
		get(stRootfs, base+cfg.rootfs, false)
	}
	return r
}

// bootFileOf is the file field of a reply, else its option 67.
func bootFileOf(m *dhcpv4.DHCPv4) string {
	if f := strings.TrimRight(m.BootFileName, "\x00"); f != "" {
		return f
	}
	return m.BootFileNameOption()
}

func firstLines(b []byte, n int) string {
	lines := strings.SplitN(string(b), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// readSums reads a sha256sum(1) file: "HEX  NAME" lines, keyed by base name.
func readSums(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sums := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && len(f[0]) == 64 {
			sums[path.Base(strings.TrimPrefix(f[1], "*"))] = strings.ToLower(f[0])
		}
	}
	return sums, sc.Err()
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("size %q: want a positive integer with K, M or G", s)
	}
	return v * mult, nil
}
