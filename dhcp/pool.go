package dhcp

import (
	"net"
	"net/netip"
	"time"
)

// maxScan bounds the addresses one Offer examines, so that a huge and
// full pool costs a bounded time per packet; the cursor moves on anyway.
const maxScan = 1 << 16

// usable reports whether ip may ever be leased from s's pool.
func (m *MemoryLeases) usable(s Subnet, ip netip.Addr) bool {
	if !s.HasPool() || !ip.Is4() || ip.Compare(s.PoolStart) < 0 || ip.Compare(s.PoolEnd) > 0 {
		return false
	}
	p := s.Prefix.Masked()
	if ip == p.Addr() || ip == lastAddr(p) || ip == s.Gateway || ip == s.NextServer {
		return false
	}
	for _, d := range s.DNS {
		if ip == d {
			return false
		}
	}
	return !m.reserved(ip)
}

// free finds an address of s's pool that nobody holds, starting after the
// last one given so that freed addresses rest before reuse.
func (m *MemoryLeases) free(s Subnet, now time.Time) (netip.Addr, bool) {
	ip := m.cursor[s.Prefix]
	if !ip.IsValid() || ip.Compare(s.PoolStart) < 0 || ip.Compare(s.PoolEnd) > 0 {
		ip = s.PoolStart
	}
	n := min(uint64(u32(s.PoolEnd)-u32(s.PoolStart))+1, maxScan)
	for range n {
		next := ip.Next()
		if ip == s.PoolEnd {
			next = s.PoolStart
		}
		if l := m.byIP[ip]; (l == nil || !l.Expires.After(now)) && m.usable(s, ip) {
			m.cursor[s.Prefix] = next
			return ip, true
		}
		ip = next
	}
	m.cursor[s.Prefix] = ip
	return netip.Addr{}, false
}

// set records l, taking its address from any previous holder.
func (m *MemoryLeases) set(l Lease) {
	if old := m.byIP[l.IP]; old != nil && string(old.MAC) != string(l.MAC) {
		m.unindexMAC(old.MAC, l.IP)
	}
	m.byIP[l.IP] = &l
	key := string(l.MAC)
	for _, ip := range m.byMAC[key] {
		if ip == l.IP {
			return
		}
	}
	m.byMAC[key] = append(m.byMAC[key], l.IP)
}

// drop forgets ip, telling persist when a binding ends.
func (m *MemoryLeases) drop(ip netip.Addr, released bool) {
	l := m.byIP[ip]
	delete(m.byIP, ip)
	m.unindexMAC(l.MAC, ip)
	if released {
		m.persist(Lease{MAC: l.MAC, IP: ip, Subnet: l.Subnet, State: LeaseReleased})
	}
}

func (m *MemoryLeases) unindexMAC(mac net.HardwareAddr, ip netip.Addr) {
	key := string(mac)
	ips := m.byMAC[key]
	for i, a := range ips {
		if a == ip {
			ips = append(ips[:i:i], ips[i+1:]...)
			break
		}
	}
	if len(ips) == 0 {
		delete(m.byMAC, key)
		return
	}
	m.byMAC[key] = ips
}

// lastAddr is the highest address of an IPv4 prefix (its broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	v := u32(p.Addr()) | (uint32(1)<<(32-p.Bits()) - 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// u32 is an IPv4 address as a number.
func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func cloneMAC(mac net.HardwareAddr) net.HardwareAddr {
	return append(net.HardwareAddr(nil), mac...)
}
