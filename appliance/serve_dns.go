package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/miekg/dns"

	"github.com/provision/provision/dnsconf"
	"github.com/provision/provision/registry"
)

// trustedDNSClient: the appliance's own machines (inside a registered
// subnet) and this host (loopback) are never rate limited.
func trustedDNSClient(snap *registry.Snapshot, ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	_, ok := snap.SubnetFor(ip)
	return ok
}

// recursionClient: the appliance's own machines (inside a registered
// subnet) and this host (127.0.0.1 and ::1, not the rest of 127/8) have
// names outside the zone forwarded; nobody else: no open resolver.
func recursionClient(snap *registry.Snapshot, ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || ip == netip.IPv6Loopback() {
		return true
	}
	_, ok := snap.SubnetFor(ip)
	return ok
}

// newDNS builds the DNS server and its first zone, follows the registry,
// and lets the zone vet static records before the registry takes them.
func (a *Appliance) newDNS() (*dnsconf.Server, error) {
	addr, err := netip.ParseAddr(a.cfg.Address)
	if err != nil {
		return nil, err
	}
	var forward []netip.AddrPort
	if a.cfg.DNS != "" {
		if forward, err = a.dnsForward(); err != nil {
			return nil, err
		}
	}
	first := a.reg.Snapshot()
	srv, err := dnsconf.New(dnsconf.Config{Zone: dnsconf.Options{Origin: a.cfg.Zone, NS: addr,
		SerialBase: uint32(first.Epoch), Instance: first.Instance}, Log: a.log, CDBDir: filepath.Join(a.cfg.Data, "zone"), Kept: giveBack,
		Trusted:   func(ip netip.Addr) bool { return trustedDNSClient(a.reg.Snapshot(), ip) },
		Forward:   forward,
		Recursion: func(ip netip.Addr) bool { return recursionClient(a.reg.Snapshot(), ip) }})
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

// startDNS listens on UDP and TCP (same port) for Run to serve.
func (a *Appliance) startDNS(srv *dnsconf.Server) error {
	// The zone is rebuilt after every change even with DNS off: data.cdb,
	// zone export and the static-record checks read it.
	a.serve(srv.Run)
	if a.cfg.DNS == "" {
		return nil
	}
	udp, tcp, err := listenBoth(a.cfg.DNS)
	if err != nil {
		return listenError("DNS", "--dns", a.cfg.DNS, err)
	}
	a.closers = append(a.closers, udp, tcp)
	a.addrs.DNS = udp.LocalAddr().String()
	a.log.Info("listening", "proto", "dns", "addr", udp.LocalAddr().String())
	a.serve(func(ctx context.Context) error { return srv.Serve(ctx, udp, tcp) })
	return nil
}

// listenBoth opens UDP and TCP on one address, UDP with large buffers. With port 0 it takes the
// port the kernel gives UDP and retries if TCP finds it taken. UDP has
// SO_REUSEPORT, so that the DNS server can spread queries over one socket
// per CPU; TCP has not, so that a second appliance on the same port fails
// here instead of sharing it.
func listenBoth(addr string) (*net.UDPConn, net.Listener, error) {
	for range 20 {
		udp, err := dnsconf.ListenUDP(addr)
		if err != nil {
			return nil, nil, err
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			// 4 MiB (Debian's net.core.rmem_max caps it) so that a burst of
			// queries is not dropped by the kernel; best effort.
			udp.SetReadBuffer(4 << 20)
			udp.SetWriteBuffer(4 << 20)
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

// resolvConf holds the default upstream resolvers (--dns-forward).
const resolvConf = "/etc/resolv.conf"

// dnsForward returns the upstream resolvers of names outside the zone
// and logs them.
func (a *Appliance) dnsForward() ([]netip.AddrPort, error) {
	local := localAddrs()
	if ip, err := netip.ParseAddr(a.cfg.Address); err == nil {
		local = append(local, ip)
	}
	plan, err := dnsForwarders(a.cfg.DNSForward, resolvConf, ownDNS(a.cfg.DNS, local))
	if err != nil {
		return nil, err
	}
	for _, s := range plan.skipped {
		a.log.Warn("dns: upstream resolver left out", "skipped", s, "from", plan.from)
	}
	if len(plan.upstreams) == 0 {
		a.log.Info("dns: not forwarding names outside the zone: they are refused", "from", plan.from)
		return nil, nil
	}
	ups := make([]string, len(plan.upstreams))
	for i, up := range plan.upstreams {
		ups[i] = up.String()
	}
	a.log.Info("dns: forwarding names outside the zone", "upstreams", strings.Join(ups, ","), "from", plan.from)
	return plan.upstreams, nil
}

// forwardPlan is where the queries for names outside the zone go.
type forwardPlan struct {
	upstreams []netip.AddrPort
	from      string   // "--dns-forward" or the resolv.conf read
	skipped   []string // resolv.conf's name servers left out, and why
}

// dnsForwarders returns the upstreams of --dns-forward (list), or when
// it was not given (nil) the name servers of resolvConf but this DNS
// server itself (own), so that no query goes round in a loop. Given in
// --dns-forward, this server itself is an error.
func dnsForwarders(list []string, resolvConf string, own func(netip.AddrPort) bool) (forwardPlan, error) {
	if list != nil {
		ups, err := parseDNSForward(list)
		for _, up := range ups {
			if own(up) {
				return forwardPlan{}, configError{fmt.Errorf("--dns-forward %s is this DNS server itself: queries would go round in a loop", up)}
			}
		}
		return forwardPlan{upstreams: ups, from: "--dns-forward"}, err
	}
	plan := forwardPlan{from: resolvConf}
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		plan.skipped = append(plan.skipped, err.Error())
		return plan, nil
	}
	port, err := strconv.ParseUint(cc.Port, 10, 16)
	if err != nil || port == 0 {
		port = 53
	}
	for _, s := range cc.Servers {
		ip, err := netip.ParseAddr(s)
		switch up := netip.AddrPortFrom(ip, uint16(port)); {
		case err != nil || ip.IsUnspecified():
			plan.skipped = append(plan.skipped, s+": not an IP address")
		case own(up):
			plan.skipped = append(plan.skipped, up.String()+": this DNS server itself")
		default:
			plan.upstreams = append(plan.upstreams, up)
		}
	}
	return plan, nil
}

// parseDNSForward parses --dns-forward: IP or IP:PORT ([IPv6]:PORT), port
// 53 by default. "none" alone, or no address, gives an empty list.
func parseDNSForward(list []string) ([]netip.AddrPort, error) {
	var ups []netip.AddrPort
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" || s == "none" {
			if s == "none" && len(list) > 1 {
				return nil, fmt.Errorf("--dns-forward none: give it alone, or give upstream resolvers")
			}
			continue
		}
		if ip, err := netip.ParseAddr(s); err == nil && !ip.IsUnspecified() {
			ups = append(ups, netip.AddrPortFrom(ip, 53))
			continue
		}
		up, err := netip.ParseAddrPort(s)
		if err != nil || up.Port() == 0 || up.Addr().IsUnspecified() {
			return nil, fmt.Errorf("--dns-forward %q: want IP or IP:PORT, or none", s)
		}
		ups = append(ups, up)
	}
	return ups, nil
}

// ownDNS returns whether an upstream is the DNS server listening on
// listen: that address and port, or when it listens on every address (or
// on a name), a loopback or local address on its port.
func ownDNS(listen string, local []netip.Addr) func(netip.AddrPort) bool {
	host, p, err := net.SplitHostPort(listen)
	port, perr := strconv.ParseUint(p, 10, 16)
	if err != nil || perr != nil {
		return func(netip.AddrPort) bool { return false }
	}
	ip, iperr := netip.ParseAddr(host)
	return func(up netip.AddrPort) bool {
		if up.Port() != uint16(port) {
			return false
		}
		a := up.Addr().Unmap().WithZone("")
		if iperr == nil && !ip.IsUnspecified() {
			return a == ip.Unmap().WithZone("")
		}
		return a.IsLoopback() || slices.Contains(local, a)
	}
}

// localAddrs returns this host's interface addresses.
func localAddrs() []netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}
