package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/dnsconf"
	"github.com/provision/provision/registry"
)

// newDNS builds the DNS server and its first zone, follows the registry,
// and lets the zone vet static records before the registry takes them.
// trustedDNSClient: the appliance's own machines (inside a registered
// subnet) and this host (loopback) are never rate limited.
func trustedDNSClient(snap *registry.Snapshot, ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	_, ok := snap.SubnetFor(ip)
	return ok
}

func (a *appliance) newDNS() (*dnsconf.Server, error) {
	addr, err := netip.ParseAddr(a.cfg.Address)
	if err != nil {
		return nil, err
	}
	srv, err := dnsconf.New(dnsconf.Config{Zone: dnsconf.Options{Origin: a.cfg.Zone, NS: addr}, Log: a.log,
		Trusted: func(ip netip.Addr) bool { return trustedDNSClient(a.reg.Snapshot(), ip) }})
	if err != nil {
		return nil, err
	}
	snap := a.reg.Snapshot()
	if _, err := srv.Update(snap, snap.Serial); err != nil {
		return nil, err
	}
	a.reg.OnChange(func(s *registry.Snapshot) { srv.Changed(s, s.Serial) })
	a.reg.SetRecordPolicy(func(_ *registry.Snapshot, rr dns.RR) error {
		if z := srv.Zone(); z != nil {
			return z.CheckStatic(rr)
		}
		return nil
	})
	return srv, nil
}

// startDNS listens on UDP and TCP (same port) and serves.
func (a *appliance) startDNS(ctx context.Context, g *errgroup.Group, srv *dnsconf.Server) error {
	// The zone is rebuilt after every change even with DNS off: data.cdb,
	// zone export and the static-record checks read it.
	g.Go(func() error { return srv.Run(ctx) })
	if a.cfg.DNS == "" {
		return nil
	}
	udp, tcp, err := listenBoth(a.cfg.DNS)
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	a.log.Info("listening", "proto", "dns", "addr", udp.LocalAddr().String())
	g.Go(func() error { return srv.Serve(ctx, udp, tcp) })
	return nil
}

// listenBoth opens UDP and TCP on one address. With port 0 it takes the
// port the kernel gives UDP and retries if TCP finds it taken.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	for range 20 {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		_, port, _ := net.SplitHostPort(addr)
		if port != "0" || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("no port free for both UDP and TCP")
}
