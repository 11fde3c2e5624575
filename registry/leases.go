package registry

import (
	"net/netip"
	"slices"
)

// LiveLease is a pool address that a DHCP client holds now.
type LiveLease struct {
	IP  netip.Addr
	MAC string // as net.HardwareAddr.String writes it
}

// SetLiveLeases gives the registry the DHCP pool's current leases, read
// before a write that would hand a leased address to a second machine: a
// system's IP or BMC address, or a pool shrunk under a client. f is called
// under the writer lock and must not call the Registry.
func (r *Registry) SetLiveLeases(f func() []LiveLease) { r.leases.Store(&f) }

func (r *Registry) liveLeases() []LiveLease {
	if f := r.leases.Load(); f != nil {
		return (*f)()
	}
	return nil
}

// checkSystemLeases refuses a system whose IP or BMC address a pool client
// other than itself holds.
func (r *Registry) checkSystemLeases(sys *System) error {
	ip, _ := netip.ParseAddr(sys.IP)
	var bmc netip.Addr
	if sys.BMC != nil {
		bmc, _ = netip.ParseAddr(sys.BMC.Address)
	}
	for _, l := range r.liveLeases() {
		switch {
		case l.IP == ip && !slices.Contains(sys.MACs, l.MAC):
			return conflictf("system %s: ip %s is leased from the pool to mac %s", sys.Name, ip, l.MAC)
		case bmc.IsValid() && l.IP == bmc:
			return conflictf("system %s: bmc address %s is leased from the pool to mac %s", sys.Name, bmc, l.MAC)
		}
	}
	return nil
}

// checkPoolLeases refuses a subnet whose new pool would leave out an
// address a client holds from the old one.
func (r *Registry) checkPoolLeases(old, e *subnetEntry) error {
	if old == nil {
		return nil
	}
	for _, l := range r.liveLeases() {
		if old.inPool(l.IP) && !(e.prefix.Contains(l.IP) && e.inPool(l.IP)) {
			pool := e.Pool
			if pool == "" {
				pool = "none"
			}
			return conflictf("subnet %s: pool %s would leave out %s, leased to mac %s", e.Name, pool, l.IP, l.MAC)
		}
	}
	return nil
}
