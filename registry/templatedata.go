package registry

import (
	"net"
	"net/netip"
	"slices"

	"github.com/provision/provision/kickstart"
)

// TemplateData is what sys's install template sees: the system (never its
// BMC password), its profile and subnet, the settings the host sees (global,
// overridden by the profile's, overridden by its own: what zonecfg get
// answers), its secret settings merged the same way (which nothing else
// publishes: a caller that shows the result to anyone but the host's
// installer masks them, MaskSecrets) and urls, the appliance's URLs for
// this build.
func (s *Snapshot) TemplateData(sys *System, urls kickstart.URLs) kickstart.Data {
	settings, secrets := s.hostValues(sys)
	d := kickstart.Data{
		System: kickstart.System{
			Name: sys.Name, Hostname: sys.Hostname, Domain: s.Zone,
			MACs: slices.Clone(sys.MACs), IP: sys.IP,
		},
		Settings: settings,
		Secrets:  secrets,
		URLs:     urls,
	}
	if len(sys.MACs) > 0 {
		d.System.MAC = sys.MACs[0]
	}
	if sys.BMC != nil {
		d.System.BMCAddress, d.System.BMCUser = sys.BMC.Address, sys.BMC.User
	}
	if p := s.profiles[sys.Profile]; p != nil {
		d.Profile = kickstart.Profile{Name: p.Name, Image: p.Image, KernelArgs: p.KernelArgs, Template: p.Kickstart, Storage: p.Storage.Layout()}
	}
	if e := s.subnetEntryFor(netip.MustParseAddr(sys.IP)); e != nil {
		d.Subnet = kickstart.Subnet{Name: e.Name, CIDR: e.CIDR, Gateway: e.Gateway, DNSServers: slices.Clone(e.DNSServers)}
		d.System.Prefix = e.prefix.Bits()
		d.System.Netmask = net.IP(net.CIDRMask(e.prefix.Bits(), 32)).String()
		d.System.Gateway = e.Gateway
		d.System.DNS = slices.Clone(e.DNSServers)
	}
	s.networkData(sys, &d)
	return d
}

// MaskSecrets replaces the values of d's secret settings with a mask: a
// preview of a template for someone who did not ask for secrets.
func MaskSecrets(d *kickstart.Data) {
	for k := range d.Secrets {
		d.Secrets[k] = Secret("x").String()
	}
}
