package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
)

// registeredAddress tells the pool which addresses systems and BMCs hold,
// from the registry's current snapshot at each call: a method value of one
// snapshot would miss every system added after the start.
func registeredAddress(reg *registry.Registry) func(netip.Addr) bool {
	return func(ip netip.Addr) bool { return reg.Snapshot().AddressInUse(ip) }
}

// interfaceAddrs returns the IPv4 addresses (with their prefixes) of the
// DHCP interface, in the kernel's order; an interface without one cannot
// serve DHCP, and says so.
func interfaceAddrs(name string) ([]netip.Prefix, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("dhcp interface %s: %w", name, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, fmt.Errorf("dhcp interface %s: %w", name, err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && n.IP.To4() != nil {
				bits, _ := n.Mask.Size()
				out = append(out, netip.PrefixFrom(ip, bits))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dhcp interface %s has no IPv4 address: give it one in the subnet it serves", name)
	}
	return out, nil
}

// dhcpIdentity is the address DHCP answers as: the interface's address
// that lies in a registered subnet, else its first. Another interface's
// address (docker0's...) is never taken.
func dhcpIdentity(own []netip.Prefix, snap *registry.Snapshot) netip.Addr {
	for _, p := range own {
		if _, ok := snap.SubnetFor(p.Addr()); ok {
			return p.Addr()
		}
	}
	return own[0].Addr()
}

// warnIdentity says when no registered subnet contains an address of the
// interface: only relayed requests can then be answered.
func (a *appliance) warnIdentity(own []netip.Prefix, ip netip.Addr, snap *registry.Snapshot) {
	if _, ok := snap.SubnetFor(ip); ok || a.cfg.DHCPMode == "proxy" { // a proxy needs no subnet: it gives no address
		a.log.Info("dhcp: answering as", "interface", a.cfg.DHCPInterface, "address", ip.String())
		return
	}
	a.log.Warn("dhcp: no registered subnet contains an address of the interface: only relayed requests are answered",
		"interface", a.cfg.DHCPInterface, "addresses", fmt.Sprint(own))
}

// liveLeases lists the pool addresses that clients hold at now: bound, or
// offered and not yet requested.
func liveLeases(m *dhcp.MemoryLeases, now time.Time) []registry.LiveLease {
	var out []registry.LiveLease
	for _, l := range m.Leases() {
		if (l.State == dhcp.LeaseBound || l.State == dhcp.LeaseOffered) && now.Before(l.Expires) {
			out = append(out, registry.LiveLease{IP: l.IP, MAC: l.MAC.String()})
		}
	}
	return out
}

// startDHCP serves DHCP on the configured interface, with pool leases
// restored from the registry and persisted through its dynamic log.
func (a *appliance) startDHCP(ctx context.Context, g *errgroup.Group) (*dhcp.Server, error) {
	if a.cfg.DHCPInterface == "" {
		return nil, nil
	}
	own, err := interfaceAddrs(a.cfg.DHCPInterface)
	if err != nil {
		return nil, err
	}
	server := dhcpIdentity(own, a.reg.Snapshot())
	leases := dhcp.NewMemoryLeases(registeredAddress(a.reg), a.persistLease)
	saved, err := a.dynamic.Leases(ctx)
	if err != nil {
		return nil, err
	}
	leases.Restore(fromRegistryLeases(saved)...)
	if a.store.Shared() { // other appliances lease from the same pools
		leases.Share(sharedLeases{a})
	}
	a.reg.SetLiveLeases(func() []registry.LiveLease { return liveLeases(leases, time.Now()) })
	proxy := a.cfg.DHCPMode == "proxy"
	cfg := dhcp.Config{ServerIP: server, HTTPBase: a.httpURL, Proxy: proxy, ProxyAll: a.cfg.ProxyAll}
	if a.store.Shared() {
		// A pool DHCPACK waits for its claim's transaction: more
		// goroutines reading the socket keep the other packets (offers,
		// registered hosts) from queueing behind it, and let the
		// database commit the claims together; one connection kept
		// open for each.
		cfg.Workers = registry.PostgresIdleConns
	}
	if _, err := os.Stat(filepath.Join(a.cfg.BootFiles, dhcp.FileARM64)); err == nil {
		cfg.ARM64 = dhcp.FileARM64 // an iPXE for ARM64 the operator put there
	}
	srv, err := dhcp.New(cfg, bind.NewDHCP(a.reg, a.cfg.Site), leases, dhcpEvents{a}, a.log)
	if err != nil {
		return nil, err
	}
	a.warnIdentity(own, server, a.reg.Snapshot())
	a.logSites(a.reg.Snapshot())
	// The address in a registered subnet may change with the registry.
	a.reg.OnChange(func(snap *registry.Snapshot) {
		if ip := dhcpIdentity(own, snap); ip != srv.ServerIP() {
			srv.SetServerIP(ip)
			a.warnIdentity(own, ip, snap)
		}
	})
	addr, err := netip.ParseAddrPort(a.cfg.DHCP)
	if err != nil {
		return nil, fmt.Errorf("dhcp address %q: %w", a.cfg.DHCP, err)
	}
	conn, err := dhcp.ListenInterface(a.cfg.DHCPInterface, addr)
	if err != nil {
		return nil, listenError("DHCP", "--dhcp", a.cfg.DHCP, err)
	}
	a.log.Info("listening", "proto", "dhcp", "addr", conn.LocalAddr().String(), "interface", a.cfg.DHCPInterface, "mode", a.cfg.DHCPMode)
	g.Go(func() error { return srv.Serve(ctx, conn) })
	if proxy {
		pxe, err := dhcp.ListenInterface(a.cfg.DHCPInterface, netip.AddrPortFrom(addr.Addr(), dhcp.ProxyPort))
		if err != nil {
			return nil, listenError("the PXE boot server port", "--dhcp", netip.AddrPortFrom(addr.Addr(), dhcp.ProxyPort).String(), err)
		}
		a.log.Info("listening", "proto", "dhcp-pxe", "addr", pxe.LocalAddr().String(), "interface", a.cfg.DHCPInterface)
		g.Go(func() error { return srv.ServePXE(ctx, pxe) })
	}
	return srv, nil
}

// logSites says which subnets this appliance leaves to another site's.
func (a *appliance) logSites(snap *registry.Snapshot) {
	for _, sub := range snap.Subnets() {
		if !bind.Serves(a.cfg.Site, sub) {
			a.log.Info("dhcp: not serving the subnet of another site", "subnet", sub.Name, "cidr", sub.CIDR, "site", sub.Site, "this site", a.cfg.Site)
		}
	}
}

// sharedLeases is the pool's arbiter on a shared database: the registry's
// lease table, where a claim is a transaction (registry.ClaimLease).
type sharedLeases struct{ a *appliance }

// leaseWait bounds how long a DHCPACK of a pool address waits for the
// database: less than a client's first retransmission (4 s).
const leaseWait = 2 * time.Second

func (s sharedLeases) Claim(l dhcp.Lease) (*dhcp.Lease, error) {
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait)
	defer cancel()
	rl := registry.Lease{MAC: l.MAC.String(), IP: l.IP.String(), Subnet: l.Subnet, Expires: l.Expires, State: "bound", Holder: s.a.cfg.Name}
	err := s.a.store.ClaimLease(ctx, rl, time.Now())
	var held *registry.LeaseHeldError
	if errors.As(err, &held) {
		h := fromRegistryLease(held.Lease)
		return &h, nil
	}
	return nil, err
}

func (s sharedLeases) End(l dhcp.Lease) error {
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait)
	defer cancel()
	state := map[dhcp.LeaseState]string{dhcp.LeaseReleased: "released", dhcp.LeaseDeclined: "declined"}[l.State]
	err := s.a.store.EndLease(ctx, registry.Lease{MAC: l.MAC.String(), IP: l.IP.String(), Expires: l.Expires, State: state})
	if err != nil {
		s.a.log.Warn("dhcp: the end of a lease was not written: the shared database keeps it until it expires",
			"mac", l.MAC.String(), "ip", l.IP.String(), "state", state, "err", err)
	}
	return err
}

// persistLease is called under the lease table's lock: it only enqueues.
func (a *appliance) persistLease(l dhcp.Lease) {
	state := map[dhcp.LeaseState]string{dhcp.LeaseBound: "bound", dhcp.LeaseReleased: "released", dhcp.LeaseDeclined: "declined"}[l.State]
	a.dynamic.SaveLease(registry.Lease{MAC: l.MAC.String(), IP: l.IP.String(), Subnet: l.Subnet, Expires: l.Expires, State: state, Holder: a.cfg.Name})
}

func fromRegistryLeases(saved []registry.Lease) []dhcp.Lease {
	var out []dhcp.Lease
	for _, l := range saved {
		if d := fromRegistryLease(l); d.MAC != nil && d.IP.IsValid() && !l.Expires.Before(time.Now()) {
			out = append(out, d)
		}
	}
	return out
}

// fromRegistryLease converts a lease; a bad MAC or address is left zero.
func fromRegistryLease(l registry.Lease) dhcp.Lease {
	states := map[string]dhcp.LeaseState{"bound": dhcp.LeaseBound, "released": dhcp.LeaseReleased, "declined": dhcp.LeaseDeclined}
	mac, _ := net.ParseMAC(l.MAC)
	ip, _ := netip.ParseAddr(l.IP)
	return dhcp.Lease{MAC: mac, IP: ip, Subnet: l.Subnet, Expires: l.Expires, State: states[l.State]}
}

// dhcpEvents puts DHCP acks on the systems' timelines and records the
// unknown machines that took a pool lease.
type dhcpEvents struct{ a *appliance }

func (e dhcpEvents) Booted(b dhcp.BootEvent) {
	if b.Host == "" {
		return
	}
	detail := "ack " + b.IP.String()
	if b.Proxy { // boot information beside another server's address
		detail = "proxy"
		if b.IP.IsValid() {
			detail += " " + b.IP.String()
		}
	}
	if b.BootFile != "" {
		detail += " boot " + b.BootFile
	}
	e.a.events.Record(registry.Event{At: b.Time, System: b.Host, MAC: b.MAC.String(), IP: b.IP.String(), Kind: "dhcp", Detail: detail})
}

func (e dhcpEvents) Discovered(d dhcp.Discovery) {
	e.a.dynamic.Saw(registry.Discovered{MAC: d.MAC.String(), IP: d.IP.String(), Subnet: d.Subnet, Hostname: d.Hostname,
		VendorClass: d.VendorClass, Arch: d.Arch, FirstSeen: d.Time, LastSeen: d.Time})
}
