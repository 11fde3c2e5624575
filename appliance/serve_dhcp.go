package appliance

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
)

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
func (a *Appliance) warnIdentity(own []netip.Prefix, ip netip.Addr, snap *registry.Snapshot) {
	if _, ok := snap.SubnetFor(ip); ok || a.cfg.DHCPMode == "proxy" { // a proxy needs no subnet: it gives no address
		a.log.Info("dhcp: answering as", "interface", a.cfg.DHCPInterface, "address", ip.String())
		return
	}
	a.log.Warn("dhcp: no registered subnet contains an address of the interface: only relayed requests are answered",
		"interface", a.cfg.DHCPInterface, "addresses", fmt.Sprint(own))
}

// startDHCP serves DHCP on the configured interface, with pool leases
// restored from the registry and persisted through its dynamic log.
func (a *Appliance) startDHCP(ctx context.Context) (*dhcp.Server, error) {
	if a.cfg.DHCPInterface == "" {
		return nil, nil
	}
	own, err := interfaceAddrs(a.cfg.DHCPInterface)
	if err != nil {
		return nil, err
	}
	server := dhcpIdentity(own, a.reg.Snapshot())
	leases := dhcp.NewMemoryLeases(bind.InUse(a.reg), bind.PersistLeases(a.dynamic, a.cfg.Name))
	saved, err := a.dynamic.Leases(ctx)
	if err != nil {
		return nil, err
	}
	leases.Restore(bind.RestoreLeases(saved, time.Now())...)
	if a.store.Shared() { // other appliances lease from the same pools
		leases.Share(bind.SharedLeases{Store: a.store, Appliance: a.cfg.Name, Log: a.log})
	}
	a.reg.SetLiveLeases(func() []registry.LiveLease { return bind.LiveLeases(leases, time.Now()) })
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
	srv, err := dhcp.New(cfg, bind.NewDHCP(a.reg, a.cfg.Site), leases, bind.DHCPEvents{Events: a.events, Dynamic: a.dynamic, Seen: &a.seen}, a.log)
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
	a.closers = append(a.closers, conn)
	a.addrs.DHCP = conn.LocalAddr().String()
	a.log.Info("listening", "proto", "dhcp", "addr", conn.LocalAddr().String(), "interface", a.cfg.DHCPInterface, "mode", a.cfg.DHCPMode)
	a.serve(func(ctx context.Context) error { return srv.Serve(ctx, conn) })
	if proxy {
		pxe, err := dhcp.ListenInterface(a.cfg.DHCPInterface, netip.AddrPortFrom(addr.Addr(), dhcp.ProxyPort))
		if err != nil {
			return nil, listenError("the PXE boot server port", "--dhcp", netip.AddrPortFrom(addr.Addr(), dhcp.ProxyPort).String(), err)
		}
		a.closers = append(a.closers, pxe)
		a.log.Info("listening", "proto", "dhcp-pxe", "addr", pxe.LocalAddr().String(), "interface", a.cfg.DHCPInterface)
		a.serve(func(ctx context.Context) error { return srv.ServePXE(ctx, pxe) })
	}
	return srv, nil
}

// logSites says which subnets this appliance leaves to another site's.
func (a *Appliance) logSites(snap *registry.Snapshot) {
	for _, sub := range snap.Subnets() {
		if !bind.Serves(a.cfg.Site, sub) {
			a.log.Info("dhcp: not serving the subnet of another site", "subnet", sub.Name, "cidr", sub.CIDR, "site", sub.Site, "this site", a.cfg.Site)
		}
	}
}
