package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Shared is a database that several servers' MemoryLeases share, which
// decides who gets a pool address: see MemoryLeases.Share.
type Shared interface {
	// Claim records l (LeaseBound) as the lease of l.IP, unless another
	// MAC holds the address: then it returns that MAC's lease (MAC nil
	// when two claims met at once and the other won) and changes nothing.
	// It must return when its answer is known, and fail when the database
	// cannot be reached in a short time.
	Claim(l Lease) (held *Lease, err error)
	// End records at once that l.MAC's lease of l.IP was released or
	// declined (l.State).
	End(l Lease) error
}

// ErrUnavailable: the shared lease database did not answer, so no pool
// address can be acknowledged; the client is not answered (it retries),
// rather than told NAK.
var ErrUnavailable = errors.New("dhcp: shared lease database unavailable")

// sharedState is what Share adds to a MemoryLeases.
type sharedState struct {
	db      Shared
	stripes [64]sync.Mutex // by address: a claim and the memory change it allows happen as one
}

func (sh *sharedState) lock(ip netip.Addr) *sync.Mutex {
	mu := &sh.stripes[u32(ip)%uint32(len(sh.stripes))]
	mu.Lock()
	return mu
}

// Share makes db the arbiter of pool addresses, for servers of several
// appliances serving one subnet: a DHCPACK of a pool address waits for
// db.Claim, which refuses an address another MAC holds through any
// appliance (the address is then remembered as held, so that the next
// Offer picks another); a release or a decline is written through
// db.End before it takes effect in memory. persist is not called any
// more. Call it before serving.
func (m *MemoryLeases) Share(db Shared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shared = &sharedState{db: db}
	m.persist = func(Lease) {}
}

// ackShared is Ack on a shared database.
func (m *MemoryLeases) ackShared(mac net.HardwareAddr, ip netip.Addr, s Subnet, now, until time.Time) error {
	defer m.shared.lock(ip).Unlock()
	m.mu.Lock()
	err := m.checkAck(mac, ip, s, now)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	l := Lease{MAC: cloneMAC(mac), IP: ip, Subnet: s.Name, Expires: until, State: LeaseBound}
	held, err := m.shared.db.Claim(l)
	if err != nil {
		return fmt.Errorf("%w: lease of %s to %s: %v", ErrUnavailable, ip, mac, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if held != nil {
		h := *held
		if h.MAC == nil || !h.Expires.After(now) { // met another claim: hold it briefly, the database knows the rest
			h.MAC, h.Expires, h.State = nil, now.Add(OfferHold), LeaseOffered
		}
		h.IP, h.Subnet = ip, s.Name
		m.set(h)
		if h.MAC == nil {
			return fmt.Errorf("%w: %s was leased to another client through another appliance", ErrConflict, ip)
		}
		return fmt.Errorf("%w: %s is held by %s (shared lease database)", ErrConflict, ip, h.MAC)
	}
	m.bind(mac, ip, s, until)
	return nil
}

// endShared is Release and Decline on a shared database: the end is
// written first, then the address is freed (or quarantined) in memory.
func (m *MemoryLeases) endShared(mac net.HardwareAddr, ip netip.Addr, now time.Time, state LeaseState) {
	defer m.shared.lock(ip).Unlock()
	m.mu.Lock()
	l := m.byIP[ip]
	if l == nil || string(l.MAC) != string(mac) || l.State == LeaseDeclined {
		m.mu.Unlock()
		return
	}
	end := Lease{MAC: l.MAC, IP: ip, Subnet: l.Subnet, State: state}
	if state == LeaseDeclined {
		end.Expires = now.Add(DeclineHold)
	}
	bound := l.State == LeaseBound
	m.mu.Unlock()
	if bound {
		if err := m.shared.db.End(end); err != nil {
			return // the database keeps it bound until it expires: nobody else gets it meanwhile
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.byIP[ip]; cur == nil || string(cur.MAC) != string(mac) {
		return
	}
	if state == LeaseDeclined {
		m.unindexMAC(l.MAC, ip)
		m.byIP[ip] = &end
		return
	}
	m.drop(ip, false)
}
