package kickstart

import (
	"cmp"
	"fmt"
)

// Data is what a template sees: the host being installed, its profile and
// subnet, its settings and the appliance's URLs for this build.
type Data struct {
	System   System
	Profile  Profile
	Subnet   Subnet
	Settings map[string]string // the host's effective settings: global, overridden by the profile's, overridden by the system's
	// Secrets are the host's secret settings, merged the same way (a key
	// set at a level as one kind hides the other kind's value from the
	// levels above): published nowhere, rendered only into this host's
	// build.
	Secrets map[string]string
	URLs    URLs
	// Interfaces are the host's network interfaces: those modelled, or
	// one per MAC (eth0, eth1...) with eth0 carrying System.IP.
	Interfaces []Interface
	Networkd   []File // the systemd-networkd files of Interfaces (see package networkd)
}

// System is the host being installed.
type System struct {
	Name       string   // the registry name, a DNS label
	Hostname   string   // fully qualified
	Domain     string   // the appliance's DNS zone
	MAC        string   // the first MAC, aa:bb:cc:dd:ee:ff
	MACs       []string // every MAC, the first one first
	IP         string   // dotted quad
	Netmask    string   // dotted quad
	Prefix     int      // the netmask's length, e.g. 24
	Gateway    string   // may be ""
	DNS        []string // name servers
	BMCAddress string   // "" when the host has no BMC
	BMCUser    string   // "" when the host has no BMC; there is never a password here
}

// Profile is the host's role.
type Profile struct {
	Name       string
	Image      string  // the image the installer boots from
	KernelArgs string  // the operator's installer kernel arguments
	Template   string  // this template's name
	Storage    Storage // the disk layout of a disk image's deploy (see Storage)
}

// Subnet is the subnet of the host's IP.
type Subnet struct {
	Name       string
	CIDR       string // e.g. 10.0.0.0/24
	Gateway    string // may be ""
	DNSServers []string
}

// URLs are the appliance's URLs for this host and build.
type URLs struct {
	Server   string // the appliance, e.g. http://10.0.0.1 (no trailing slash)
	Script   string // this host's iPXE script
	Image    string // Server/images/IMAGE: the kernel, initrd... of the profile's image
	Template string // this build's template URL (Server/ks/TOKEN)
	Done     string // Template + "/done": the installer calls it when the install succeeded
	Failed   string // Template + "/failed": POST the installer log here when it failed
	// Mirrors are the package archives the appliance caches, by name:
	// Mirrors["debian"] is Server/debian (see package mirror). An
	// archive the appliance does not serve has no key.
	Mirrors map[string]string
}

// SampleData returns plausible data for one host, web001 (10.0.0.11/24,
// gateway and name server 10.0.0.1, zone internal, profile web on image
// centos, URLs under http://10.0.0.1 with the token TOKEN, its one NIC
// eth0 and its systemd-networkd file), with no settings. Every built-in
// template renders for it.
func SampleData() Data {
	const server, mac = "http://10.0.0.1", "52:54:00:aa:bb:01"
	build := server + "/ks/TOKEN"
	return Data{
		System: System{
			Name: "web001", Hostname: "web001.internal", Domain: "internal",
			MAC: mac, MACs: []string{mac},
			IP: "10.0.0.11", Netmask: "255.255.255.0", Prefix: 24,
			Gateway: "10.0.0.1", DNS: []string{"10.0.0.1"},
		},
		Profile:    Profile{Name: "web", Image: "centos", KernelArgs: "console=ttyS0,115200n8", Template: "rhel9-kickstart"},
		Subnet:     Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", DNSServers: []string{"10.0.0.1"}},
		Interfaces: []Interface{{Name: "eth0", Kind: "physical", MAC: mac, Primary: true, Address: "10.0.0.11/24"}},
		Networkd: []File{{Name: "20-eth0.network", Content: "[Match]\nPermanentMACAddress=" + mac +
			"\n\n[Network]\nAddress=10.0.0.11/24\nGateway=10.0.0.1\nDNS=10.0.0.1\n"}},
		URLs: URLs{
			Server: server, Script: server + "/boot/" + mac + ".ipxe", Image: server + "/images/centos",
			Template: build, Done: build + "/done", Failed: build + "/failed",
			Mirrors: MirrorURLs(server, []string{"debian", "debian-security"}),
		},
	}
}

// MetaData returns the cloud-init NoCloud meta-data document of an
// autoinstall build, served at the template URL + "/meta-data": its
// instance-id is NAME-BUILDID, new for every build so that cloud-init runs
// again, and its local-hostname the host's name (fully qualified).
func MetaData(d Data, buildID string) []byte {
	host := cmp.Or(d.System.Hostname, d.System.Name)
	return fmt.Appendf(nil, "instance-id: %s\nlocal-hostname: %s\n",
		yamlQuote(d.System.Name+"-"+buildID), yamlQuote(host))
}
