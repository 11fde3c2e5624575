package bind

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
)

// leaseStates names dhcp's lease states as the registry stores them.
var leaseStates = map[dhcp.LeaseState]string{dhcp.LeaseBound: "bound", dhcp.LeaseReleased: "released", dhcp.LeaseDeclined: "declined"}

// ToLease is a DHCP lease as the registry stores it, held by appliance.
func ToLease(l dhcp.Lease, appliance string) registry.Lease {
	return registry.Lease{MAC: l.MAC.String(), IP: l.IP.String(), Subnet: l.Subnet, Expires: l.Expires, State: leaseStates[l.State], Holder: appliance}
}

// FromLease converts a stored lease; a bad MAC or address is left zero.
func FromLease(l registry.Lease) dhcp.Lease {
	states := map[string]dhcp.LeaseState{"bound": dhcp.LeaseBound, "released": dhcp.LeaseReleased, "declined": dhcp.LeaseDeclined}
	mac, _ := net.ParseMAC(l.MAC)
	ip, _ := netip.ParseAddr(l.IP)
	return dhcp.Lease{MAC: mac, IP: ip, Subnet: l.Subnet, Expires: l.Expires, State: states[l.State]}
}

// RestoreLeases are the stored leases a DHCP server starts with: those
// still running at now, with a valid MAC and address.
func RestoreLeases(saved []registry.Lease, now time.Time) []dhcp.Lease {
	var out []dhcp.Lease
	for _, l := range saved {
		if d := FromLease(l); d.MAC != nil && d.IP.IsValid() && !l.Expires.Before(now) {
			out = append(out, d)
		}
	}
	return out
}

// LiveLeases lists the pool addresses that clients hold at now: bound, or
// offered and not yet requested (registry.SetLiveLeases).
func LiveLeases(m *dhcp.MemoryLeases, now time.Time) []registry.LiveLease {
	var out []registry.LiveLease
	for _, l := range m.Leases() {
		if (l.State == dhcp.LeaseBound || l.State == dhcp.LeaseOffered) && now.Before(l.Expires) {
			out = append(out, registry.LiveLease{IP: l.IP, MAC: l.MAC.String()})
		}
	}
	return out
}

// PersistLeases writes the leases a DHCP server grants and ends to the
// registry through its dynamic log. It is called under the lease table's
// lock: it only enqueues.
func PersistLeases(log *registry.DynamicLog, appliance string) func(dhcp.Lease) {
	return func(l dhcp.Lease) { log.SaveLease(ToLease(l, appliance)) }
}

// InUse tells a pool which addresses systems and BMCs hold, from the
// registry's current Snapshot at each call: a method value of one Snapshot
// would miss every system added after the start.
func InUse(reg Registry) func(netip.Addr) bool {
	return func(ip netip.Addr) bool { return reg.Snapshot().AddressInUse(ip) }
}

// LeaseStore is the shared database's lease table; *registry.SQLStore
// satisfies it.
type LeaseStore interface {
	ClaimLease(ctx context.Context, l registry.Lease, now time.Time) error
	EndLease(ctx context.Context, l registry.Lease) error
}

// SharedLeases is the pool's arbiter on a shared database (dhcp.Shared):
// the registry's lease table, where a claim is a transaction
// (registry.ClaimLease).
type SharedLeases struct {
	Store     LeaseStore
	Appliance string // this appliance's name, the holder of its claims
	Log       *slog.Logger
}

// leaseWait bounds how long a DHCPACK of a pool address waits for the
// database: less than a client's first retransmission (4 s).
const leaseWait = 2 * time.Second

// Claim asks the database for l; a lease someone else holds comes back
// as held.
func (s SharedLeases) Claim(l dhcp.Lease) (*dhcp.Lease, error) {
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait)
	defer cancel()
	rl := ToLease(l, s.Appliance)
	rl.State = "bound"
	err := s.Store.ClaimLease(ctx, rl, time.Now())
	var held *registry.LeaseHeldError
	if errors.As(err, &held) {
		h := FromLease(held.Lease)
		return &h, nil
	}
	return nil, err
}

// End writes the end of a lease (released or declined).
func (s SharedLeases) End(l dhcp.Lease) error {
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait)
	defer cancel()
	rl := ToLease(l, "")
	rl.Subnet = ""
	err := s.Store.EndLease(ctx, rl)
	if err != nil {
		s.Log.Warn("dhcp: the end of a lease was not written: the shared database keeps it until it expires",
			"mac", rl.MAC, "ip", rl.IP, "state", rl.State, "err", err)
	}
	return err
}
