package dhcp

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"
)

var (
	t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	labNet = Subnet{
		Name: "lab", Prefix: netip.MustParsePrefix("10.0.0.0/24"), Gateway: ip("10.0.0.254"),
		Domain: "lab.example", PoolStart: ip("10.0.0.100"), PoolEnd: ip("10.0.0.110"),
	}
	remoteNet = Subnet{ // reached through a relay at 10.0.5.1; no pool
		Name: "remote", Prefix: netip.MustParsePrefix("10.0.5.0/24"), Gateway: ip("10.0.5.1"),
		DNS: []netip.Addr{ip("10.0.0.1"), ip("10.0.0.53")}, Domain: "remote.example",
		NextServer: ip("10.0.0.2"), LeaseTime: 24 * time.Hour,
	}

	macWeb    = mustMAC("02:00:00:00:00:01")
	macPXL    = mustMAC("02:00:00:00:00:02")
	macOff    = mustMAC("02:00:00:00:00:03")
	macInPool = mustMAC("02:00:00:00:00:04")
	macRemote = mustMAC("02:00:00:00:00:05")
	macNew    = mustMAC("02:00:00:00:00:99")
	macOther  = mustMAC("02:00:00:00:00:98")
	macGRUB   = mustMAC("02:00:00:00:00:06")
	macSB     = mustMAC("02:00:00:00:00:07")

	testHosts = []Host{
		{Name: "web01", MAC: macWeb, IP: ip("10.0.0.10"), Subnet: labNet, Netboot: true},
		{Name: "pxl01", Hostname: "pxl01.lab.example", MAC: macPXL, IP: ip("10.0.0.11"), Subnet: labNet, Netboot: true, Loader: LoaderPXELinux},
		{Name: "off01", MAC: macOff, IP: ip("10.0.0.12"), Subnet: labNet, Netboot: false},
		{Name: "pool01", MAC: macInPool, IP: ip("10.0.0.100"), Subnet: labNet, Netboot: true},
		{Name: "remote01", MAC: macRemote, IP: ip("10.0.5.20"), Netboot: true}, // Subnet from SubnetFor
		{Name: "grub01", MAC: macGRUB, IP: ip("10.0.0.13"), Subnet: labNet, Netboot: true, Loader: LoaderGRUB},
		{Name: "sb01", MAC: macSB, IP: ip("10.0.0.14"), Subnet: labNet, Netboot: true, Loader: LoaderGRUB, SecureBoot: true},
	}
	testConfig = Config{ServerIP: ip("10.0.0.1"), HTTPBase: "http://10.0.0.1:8080/", LeaseTime: time.Hour}
)

func newEnv() (Env, *MemoryLeases) {
	hosts := newFakeHosts([]Subnet{labNet, remoteNet}, testHosts...)
	leases := NewMemoryLeases(hosts.reserved, nil)
	return Env{Config: testConfig, Hosts: hosts, Leases: leases, Now: t0}, leases
}

// Packet builders, on the library's own constructors.

func discoverPkt(t testing.TB, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	p, err := dhcpv4.NewDiscovery(mac, mods...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func packet(t testing.TB, typ dhcpv4.MessageType, mac net.HardwareAddr, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	p, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithHwAddr(mac), dhcpv4.WithMessageType(typ)}, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func requested(a string) dhcpv4.Modifier {
	return dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(net.ParseIP(a)))
}

func serverID(a string) dhcpv4.Modifier {
	return dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.ParseIP(a)))
}

func arch(a iana.Arch) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptClientArch(a)) }

func class(c string) dhcpv4.Modifier { return dhcpv4.WithOption(dhcpv4.OptClassIdentifier(c)) }

// view is what the tests compare of a reply: header fields and every
// option, humanized by the library.
type view struct {
	YIAddr, CIAddr, SIAddr, GIAddr, File string
	Broadcast                            bool
	Opts                                 opts
}

type opts map[uint8]string

func viewOf(p *dhcpv4.DHCPv4) view {
	v := view{
		YIAddr: p.YourIPAddr.String(), CIAddr: p.ClientIPAddr.String(), SIAddr: p.ServerIPAddr.String(),
		GIAddr: p.GatewayIPAddr.String(), File: p.BootFileName, Broadcast: p.IsBroadcast(), Opts: opts{},
	}
	for code, val := range p.Options {
		v.Opts[code] = strings.TrimSpace(dhcpv4.Options{code: val}.String())
	}
	return v
}

// with returns a copy of o changed by the pairs of more; "" deletes.
func (o opts) with(more opts) opts {
	out := opts{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range more {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// Expected option sets.
var (
	labLease = opts{
		1: "Subnet Mask: ffffff00", 3: "Router: 10.0.0.254", 6: "Domain Name Server: 10.0.0.1",
		15: "Domain Name: lab.example", 28: "Broadcast Address: 10.0.0.255", 51: "IP Addresses Lease Time: 1h0m0s",
		54: "Server Identifier: 10.0.0.1", 58: "Renew Time Value: 30m0s", 59: "Rebinding Time Value: 52m30s",
	}
	offer = opts{53: "DHCP Message Type: OFFER"}
	ack   = opts{53: "DHCP Message Type: ACK"}
	web01 = opts{12: "Host Name: web01"}
)

func tftpBoot(file string) opts {
	return opts{66: "TFTP Server Name: 10.0.0.1", 67: "Bootfile Name: " + file}
}
