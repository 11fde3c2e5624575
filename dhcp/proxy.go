package dhcp

import (
	"fmt"
	"net"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// ProxyPort is the PXE boot server port (PXE 2.1 §2.2.5): a PXE client
// that took a proxyDHCP offer may ask it here, by unicast, for its boot
// file (iPXE does; EDK II does for an offer without option 43).
const ProxyPort = 4011

// proxy is Reply in proxyDHCP mode (Config.Proxy): another DHCP server on
// the network hands out the addresses, and this one answers PXE and HTTP
// boot clients (option 60 PXEClient or HTTPClient, which iPXE sends too)
// with boot information only: no yiaddr, no lease, no network options,
// as dnsmasq's "dhcp-range=...,proxy" and smee's proxy mode do. It
// answers a DHCPDISCOVER with an offer, and a DHCPREQUEST that names this
// server (option 54) or comes from a configured client (ciaddr, the
// request to port 4011) with an ACK; a DHCPREQUEST naming the other
// server is not ours. Registered MACs only, unless Config.ProxyAll.
func proxy(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) (*dhcpv4.DHCPv4, error) {
	var t dhcpv4.MessageType
	switch req.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		t = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest:
		sid := addr4(req.ServerIdentifier())
		if sid.IsValid() && sid != env.Config.ServerIP || !sid.IsValid() && !addr4(req.ClientIPAddr).IsValid() {
			return nil, nil // for the server that hands out the address
		}
		t = dhcpv4.MessageTypeAck
	default:
		return nil, nil // leases are the other server's
	}
	class := req.ClassIdentifier()
	if !strings.HasPrefix(class, classPXE) && !strings.HasPrefix(class, classHTTP) {
		return nil, nil // not a netboot client: the other server answers it
	}
	var host *Host
	if h, ok := env.Hosts.HostByMAC(mac); ok {
		host = &h
	} else if !env.Config.ProxyAll {
		return nil, fmt.Errorf("%w: %s asks for a boot file; proxyDHCP answers registered MACs only (ProxyAll answers all)", ErrUnknownMAC, mac)
	}
	f, ok, err := chooseBoot(req, host, env.Config)
	if !ok {
		if err == nil {
			err = fmt.Errorf("%w: %s, arch %v, class %q", ErrNoBootFile, mac, req.ClientArch(), class)
		}
		return nil, err
	}
	// chooseBoot echoes the client's class (option 60), which a proxy
	// offer must carry; iPXE must keep listening for this offer: no
	// option 175 no-pxedhcp.
	f.ipxe = false
	if f.script {
		// The address is the other server's, which the registry may not
		// know: name the script by MAC rather than by client address.
		f.name = httpBase(env.Config) + "/boot/" + mac.String() + ".ipxe"
	}
	resp := newReply(req, t, env.Config)
	if ci := addr4(req.ClientIPAddr); ci.IsValid() && t == dhcpv4.MessageTypeAck {
		resp.ClientIPAddr = ci.AsSlice()
	}
	copyOption(resp, req, dhcpv4.OptionClientMachineIdentifier) // option 97, the PXE client's UUID
	next := env.Config.ServerIP
	if host != nil {
		next = nextServer(hostSubnet(*host, env.Hosts), env.Config)
	}
	setBoot(resp, f, next)
	return resp, err
}
