package registry

import "net/netip"

// SiteOf is the site of a system: its subnet's (the subnet holding its
// address), "" when it has none. Scopes (package access) go by it.
func (s *Snapshot) SiteOf(sys *System) string {
	ip, err := netip.ParseAddr(sys.IP)
	if err != nil {
		return ""
	}
	if sub, ok := s.SubnetFor(ip); ok {
		return sub.Site
	}
	return ""
}
