package dhcp

import (
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Ports of RFC 2131 §4.1.
const (
	ServerPort = 67 // servers and relay agents
	ClientPort = 68
)

// Destination is where resp, the answer to req, goes (RFC 2131 §4.1):
//
//   - giaddr set: to the relay, giaddr:67 (relayPort);
//   - a DHCPNAK without relay: broadcast;
//   - ciaddr set (RENEWING, REBINDING, DHCPINFORM): unicast to ciaddr:68;
//   - broadcast bit set: broadcast;
//   - otherwise RFC 2131 asks for unicast to yiaddr at chaddr, which needs
//     an ARP entry injected for an address the client does not hold yet;
//     we broadcast instead, as coredhcp does, and clients in the INIT state
//     (PXE ROMs, iPXE, dhclient) receive it.
//
// Broadcast is 255.255.255.255:68, sent on the server's interface.
func Destination(req, resp *dhcpv4.DHCPv4, clientPort, relayPort int) netip.AddrPort {
	if gi := addr4(req.GatewayIPAddr); gi.IsValid() {
		return netip.AddrPortFrom(gi, uint16(relayPort))
	}
	bcast := netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), uint16(clientPort))
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return bcast
	}
	if ci := addr4(req.ClientIPAddr); ci.IsValid() {
		return netip.AddrPortFrom(ci, uint16(clientPort))
	}
	return bcast
}
