// Command dnsserve is the provision side of bench/dns.sh: it loads N
// systems (5 settings each) into a registry on a temporary SQLite file,
// writes the zone files NSD serves (from Zone.Records) and the dnsperf
// query list, then runs the appliance on that registry (appliance.Open,
// DNS only on a free port of 127.0.0.1) until SIGTERM.
//
//	dnsserve -n 10000 -dir DIR    # writes DIR/zones/*.zone, DIR/zones.list, DIR/queries, then DIR/ready (ADDR)
//	dnsserve -freeport            # prints a port free on 127.0.0.1 for UDP and TCP, for NSD
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/provision/provision/appliance"
	"github.com/provision/provision/dnsconf"
)

// profile is where -cpuprofile writes, or nil.
var profile *os.File

func main() {
	n := flag.Int("n", 10000, "systems to load")
	dir := flag.String("dir", "", "work directory (registry, zone files, queries)")
	freeport := flag.Bool("freeport", false, "print a free port and exit")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the serving to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dnsserve:", err)
			os.Exit(1)
		}
		defer f.Close()
		profile = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *dir, *freeport); err != nil {
		fmt.Fprintln(os.Stderr, "dnsserve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, dir string, freeport bool) error {
	if freeport {
		pc, ln, err := listenPair()
		if err != nil {
			return err
		}
		pc.Close()
		ln.Close()
		_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
		fmt.Println(port)
		return nil
	}
	if dir == "" {
		return errors.New("-dir is required")
	}
	// The registry is the appliance's: DIR/registry.db.
	snap, err := load(ctx, filepath.Join(dir, "registry.db"), n)
	if err != nil {
		return err
	}
	// NSD's zone files, from the zone the appliance builds too.
	zone, err := dnsconf.New(dnsconf.Config{Zone: dnsconf.Options{Origin: snap.Zone, NS: netip.MustParseAddr("127.0.0.1")}})
	if err != nil {
		return err
	}
	z, err := zone.Update(snap, snap.Serial)
	if err != nil {
		return err
	}
	if err := writeFiles(dir, z, snap); err != nil {
		return err
	}
	cfg := appliance.Defaults(true)
	cfg.Data, cfg.Zone = dir, snap.Zone
	cfg.HTTP, cfg.DNS, cfg.TFTP, cfg.DNSForward = "127.0.0.1:0", "127.0.0.1:0", "", []string{"none"}
	a, err := appliance.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(a.Addrs().DNS+"\n"), 0o644); err != nil {
		return err
	}
	if profile != nil {
		pprof.StartCPUProfile(profile)
		defer pprof.StopCPUProfile()
	}
	return a.Run(ctx)
}

// listenPair listens on 127.0.0.1 on one port for both UDP and TCP.
func listenPair() (*net.UDPConn, net.Listener, error) {
	for range 50 {
		pc, err := dnsconf.ListenUDP("127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, errors.New("no port free for both UDP and TCP")
}
