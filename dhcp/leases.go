package dhcp

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// LeaseState is the state of a pool address.
type LeaseState uint8

// Lease states. Persist callbacks see Bound, Released and Declined.
const (
	LeaseOffered  LeaseState = iota // held between DHCPOFFER and DHCPREQUEST
	LeaseBound                      // acknowledged until Expires
	LeaseReleased                   // freed by DHCPRELEASE or by a move
	LeaseDeclined                   // quarantined until Expires (DHCPDECLINE)
)

// Lease is one pool address as MemoryLeases reports it to persist.
type Lease struct {
	MAC     net.HardwareAddr
	IP      netip.Addr
	Subnet  string // Subnet.Name
	Expires time.Time
	State   LeaseState
}

// How long MemoryLeases holds an offered or a declined address.
const (
	OfferHold   = time.Minute
	DeclineHold = 10 * time.Minute
)

// MemoryLeases is an in-memory Leases. It never hands out an address for
// which reserved returns true, nor the subnet's network, broadcast,
// gateway, DNS or next-server addresses. It calls persist, under its lock
// so that calls arrive in order, for every Bound, Released and Declined
// change: persist must only enqueue (no database write, no fsync).
type MemoryLeases struct {
	mu       sync.Mutex
	reserved func(netip.Addr) bool
	persist  func(Lease)
	byIP     map[netip.Addr]*Lease
	byMAC    map[string][]netip.Addr
	cursor   map[netip.Prefix]netip.Addr // next address to try per subnet
	shared   *sharedState                // Share; nil: this server alone decides
}

// NewMemoryLeases returns an empty pool store; reserved and persist may be
// nil.
func NewMemoryLeases(reserved func(netip.Addr) bool, persist func(Lease)) *MemoryLeases {
	if reserved == nil {
		reserved = func(netip.Addr) bool { return false }
	}
	if persist == nil {
		persist = func(Lease) {}
	}
	return &MemoryLeases{
		reserved: reserved, persist: persist,
		byIP: make(map[netip.Addr]*Lease), byMAC: make(map[string][]netip.Addr),
		cursor: make(map[netip.Prefix]netip.Addr),
	}
}

// Restore loads leases kept by the registry, at start-up. Only Bound and
// Declined leases matter; others are skipped.
func (m *MemoryLeases) Restore(leases ...Lease) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range leases {
		if (l.State == LeaseBound || l.State == LeaseDeclined) && l.IP.Is4() {
			m.set(l)
		}
	}
}

// Leases returns a copy of every address the store tracks, by address.
func (m *MemoryLeases) Leases() []Lease {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Lease, 0, len(m.byIP))
	for _, l := range m.byIP {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b Lease) int { return a.IP.Compare(b.IP) })
	return out
}

// Offer implements Leases.
func (m *MemoryLeases) Offer(mac net.HardwareAddr, s Subnet, now time.Time) (netip.Addr, error) {
	if !s.HasPool() {
		return netip.Addr{}, fmt.Errorf("%w: %s", ErrNoPool, s.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ip := range m.byMAC[string(mac)] {
		if l := m.byIP[ip]; l != nil && l.State != LeaseDeclined && m.usable(s, ip) {
			if l.State == LeaseOffered || !l.Expires.After(now) {
				l.State, l.Expires = LeaseOffered, now.Add(OfferHold)
			}
			return ip, nil
		}
	}
	ip, ok := m.free(s, now)
	if !ok {
		return netip.Addr{}, fmt.Errorf("%w: %s (%s-%s)", ErrPoolExhausted, s.Name, s.PoolStart, s.PoolEnd)
	}
	m.set(Lease{MAC: cloneMAC(mac), IP: ip, Subnet: s.Name, Expires: now.Add(OfferHold), State: LeaseOffered})
	return ip, nil
}

// Ack implements Leases: ip must be usable in s's pool and free, expired,
// or already mac's.
func (m *MemoryLeases) Ack(mac net.HardwareAddr, ip netip.Addr, s Subnet, now, until time.Time) error {
	if m.shared != nil {
		return m.ackShared(mac, ip, s, now, until)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkAck(mac, ip, s, now); err != nil {
		return err
	}
	m.bind(mac, ip, s, until)
	return nil
}

// checkAck is Ack's refusal, under m.mu.
func (m *MemoryLeases) checkAck(mac net.HardwareAddr, ip netip.Addr, s Subnet, now time.Time) error {
	if !m.usable(s, ip) {
		return fmt.Errorf("%w: %s is not in the pool of %s", ErrConflict, ip, s.Name)
	}
	if l := m.byIP[ip]; l != nil && l.Expires.After(now) {
		if l.State == LeaseDeclined {
			return fmt.Errorf("%w: %s was declined until %s", ErrConflict, ip, l.Expires.Format(time.RFC3339))
		}
		if string(l.MAC) != string(mac) {
			return fmt.Errorf("%w: %s is held by %s", ErrConflict, ip, l.MAC)
		}
	}
	return nil
}

// bind makes ip mac's until until, under m.mu.
func (m *MemoryLeases) bind(mac net.HardwareAddr, ip netip.Addr, s Subnet, until time.Time) {
	for _, old := range m.byMAC[string(mac)] {
		if old != ip && m.byIP[old].State == LeaseBound && s.Prefix.Contains(old) {
			m.drop(old, true) // the client moved within the subnet
		}
	}
	l := Lease{MAC: cloneMAC(mac), IP: ip, Subnet: s.Name, Expires: until, State: LeaseBound}
	m.set(l)
	m.persist(l)
}

// Release implements Leases.
func (m *MemoryLeases) Release(mac net.HardwareAddr, ip netip.Addr) {
	if m.shared != nil {
		m.endShared(mac, ip, time.Now(), LeaseReleased)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.byIP[ip]; l != nil && string(l.MAC) == string(mac) && l.State != LeaseDeclined {
		m.drop(ip, l.State == LeaseBound)
	}
}

// Forget implements Leases. It never writes: on a shared database the
// binding it leaves may be another appliance's (learned from a refused
// claim), which a REQUEST to that appliance must not end.
func (m *MemoryLeases) Forget(mac net.HardwareAddr, ip netip.Addr) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.byIP[ip]; l != nil && string(l.MAC) == string(mac) && l.State == LeaseOffered {
		m.drop(ip, false)
	}
}

// Decline implements Leases: only the client holding ip can decline it.
func (m *MemoryLeases) Decline(mac net.HardwareAddr, ip netip.Addr, now time.Time) {
	if m.shared != nil {
		m.endShared(mac, ip, now, LeaseDeclined)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.byIP[ip]
	if l == nil || string(l.MAC) != string(mac) || l.State == LeaseDeclined {
		return
	}
	d := Lease{MAC: l.MAC, IP: ip, Subnet: l.Subnet, Expires: now.Add(DeclineHold), State: LeaseDeclined}
	m.unindexMAC(l.MAC, ip)
	m.byIP[ip] = &d
	m.persist(d)
}
