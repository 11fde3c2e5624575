package registry

import (
	"net/netip"
	"slices"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/networkd"
)

// networkData fills d's Interfaces and Networkd from sys's interfaces:
// the primary carries the system IP with its subnet's prefix, gateway and
// name servers, an extra address its own subnet's prefix.
func (s *Snapshot) networkData(sys *System, d *kickstart.Data) {
	links := []networkd.Link{}
	for _, i := range sys.Ifaces() {
		l := networkd.Link{Name: i.Name, Kind: i.Kind(), MAC: i.MAC, BondMode: i.BondMode, Members: slices.Clone(i.Members),
			VLANParent: i.VLANParent, VLANID: i.VLANID, MTU: i.MTU}
		ip := i.IP
		if i.Primary {
			ip = sys.IP
		}
		addr := ""
		if a, err := netip.ParseAddr(ip); err == nil {
			if e := s.subnetEntryFor(a); e != nil {
				addr = netip.PrefixFrom(a, e.prefix.Bits()).String()
				l.Addresses = []string{addr}
				if i.Primary {
					l.Gateway, l.DNS = e.Gateway, slices.Clone(e.DNSServers)
				}
			}
		}
		links = append(links, l)
		d.Interfaces = append(d.Interfaces, kickstart.Interface{Name: i.Name, Kind: l.Kind, MAC: i.MAC, BondMode: i.BondMode,
			Members: slices.Clone(i.Members), VLANParent: i.VLANParent, VLANID: i.VLANID, MTU: i.MTU, Primary: i.Primary, Address: addr})
	}
	// The registry keeps interfaces valid, so this does not fail for a
	// stored system; if it did, the template sees no files.
	files, err := networkd.Files(links)
	if err != nil {
		return
	}
	for _, f := range files {
		d.Networkd = append(d.Networkd, kickstart.File{Name: f.Name, Content: f.Content})
	}
}
