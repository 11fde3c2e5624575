package dhcp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// TestPerfdhcpServe is bench/dhcp.sh's "provision-test": the Server alone
// (no registry, no lease persistence, no event consumer), answering on an
// interface the script set up, until the script creates the stop file.
// It measures the DHCP path's ceiling beside the production binary.
//
//	DHCP_PERF_SERVE     interface to serve (the server side of the veth)
//	DHCP_PERF_PREFIX    its subnet, e.g. 10.250.0.0/18; the server is its first address
//	DHCP_PERF_WORKLOAD  "reservations": perfMAC(r) reserved at the (10+r)-th
//	                    address, r < DHCP_PERF_CLIENTS (default 1000);
//	                    "pool": a pool from the 1024th address to the one
//	                    before the broadcast, no reservation
//	DHCP_PERF_STOP      file whose creation stops the server
//	DHCP_PERF_RATELIMIT per-MAC packets per second (default: the Server's)
func TestPerfdhcpServe(t *testing.T) {
	iface := os.Getenv("DHCP_PERF_SERVE")
	if iface == "" {
		t.Skip("bench/dhcp.sh only: set DHCP_PERF_SERVE (interface), DHCP_PERF_PREFIX, DHCP_PERF_WORKLOAD and DHCP_PERF_STOP")
	}
	testenv.NeedRoot(t)
	prefix, err := netip.ParsePrefix(os.Getenv("DHCP_PERF_PREFIX"))
	if err != nil || !prefix.Addr().Is4() || prefix.Bits() > 21 {
		t.Fatalf("DHCP_PERF_PREFIX=%q: want an IPv4 prefix of /21 or wider", os.Getenv("DHCP_PERF_PREFIX"))
	}
	stop := os.Getenv("DHCP_PERF_STOP")
	if stop == "" {
		t.Fatal("DHCP_PERF_STOP: name the file that stops the server")
	}
	prefix = prefix.Masked()
	v := &veth{host: iface, prefix: prefix, server: prefix.Addr().Next()}
	s := Subnet{Name: "bench", Prefix: prefix, Gateway: v.server, Domain: "bench", LeaseTime: time.Hour}
	var hosts []Host
	switch w := os.Getenv("DHCP_PERF_WORKLOAD"); w {
	case "reservations":
		for r := range envInt(t, "DHCP_PERF_CLIENTS", perfClients) {
			hosts = append(hosts, Host{Name: fmt.Sprintf("m%04d", r), MAC: perfMAC(r), IP: v.addr(uint32(10 + r)), Subnet: s})
		}
	case "pool":
		s.PoolStart, s.PoolEnd = v.addr(1024), lastAddr(prefix).Prev()
	default:
		t.Fatalf("DHCP_PERF_WORKLOAD=%q: want reservations or pool", w)
	}
	cfg := Config{ServerIP: v.server, HTTPBase: "http://" + v.server.String()}
	if l := os.Getenv("DHCP_PERF_RATELIMIT"); l != "" {
		if cfg.RateLimit, err = strconv.ParseFloat(l, 64); err != nil || cfg.RateLimit <= 0 {
			t.Fatalf("DHCP_PERF_RATELIMIT=%q: want packets per second", l)
		}
		cfg.RateBurst = max(DefaultRateBurst, int(2*cfg.RateLimit))
	}
	fh := newFakeHosts([]Subnet{s}, hosts...)
	leases := NewMemoryLeases(fh.reserved, nil)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := New(cfg, fh, leases, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ListenInterface(iface, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, conn) }()
	t.Logf("serving %s on %s (%s, %d reservations, pool %s-%s)", s.Prefix, iface, v.server, len(hosts), s.PoolStart, s.PoolEnd)
	for {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("Serve returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	bound := 0
	for _, l := range leases.Leases() {
		if l.State == LeaseBound {
			bound++
		}
	}
	st := srv.Stats()
	t.Logf("RESULT received=%d replied=%d rate_limited=%d ignored=%d malformed=%d bound_leases=%d",
		st.Received, st.Replied, st.RateLimited, st.Ignored, st.Malformed, bound)
}
