package bind

import (
	"net"
	"net/netip"
	"sync"

	"github.com/provision/provision/registry"
)

// Seen remembers the address DHCP last saw for each registered MAC: the
// address another server handed out, when the appliance answers as a
// proxyDHCP beside it. With the system's registered IP it says which
// client is the machine itself (FromItself), the only one a build's token
// is handed to. The zero Seen is empty and ready; a nil *Seen knows
// nothing. It holds one entry per MAC it was told about, and only
// registered MACs are recorded, so it is bounded by the registry.
type Seen struct {
	mu    sync.RWMutex
	addrs map[string]netip.Addr // by string(mac)
}

// maxSeen bounds Seen even if the registry's MACs are replaced again and
// again: past it, the table starts afresh (a machine is seen again at its
// next DHCP request).
const maxSeen = 1 << 20

// Saw records that DHCP saw mac at ip.
func (s *Seen) Saw(mac net.HardwareAddr, ip netip.Addr) {
	if s == nil || !ip.IsValid() || ip.IsUnspecified() {
		return
	}
	ip = ip.Unmap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addrs == nil || len(s.addrs) >= maxSeen {
		s.addrs = map[string]netip.Addr{}
	}
	s.addrs[string(mac)] = ip
}

// Addr is the address DHCP last saw for mac.
func (s *Seen) Addr(mac net.HardwareAddr) (netip.Addr, bool) {
	if s == nil {
		return netip.Addr{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.addrs[string(mac)]
	return a, ok
}

// FromItself reports whether client is sys itself: its registered IP, or
// the address DHCP last saw for one of its MACs.
func (s *Seen) FromItself(sys *registry.System, client netip.Addr) bool {
	client = client.Unmap()
	if !client.IsValid() {
		return false
	}
	if ip, err := netip.ParseAddr(sys.IP); err == nil && ip == client {
		return true
	}
	for _, m := range sys.MACs {
		mac, err := net.ParseMAC(m)
		if err != nil {
			continue
		}
		if a, ok := s.Addr(mac); ok && a == client {
			return true
		}
	}
	return false
}
