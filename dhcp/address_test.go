package dhcp

import (
	"net/netip"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

func TestDestination(t *testing.T) {
	ciaddr := dhcpv4.WithClientIP(ip("10.0.0.10").AsSlice())
	relay := dhcpv4.WithRelay(ip("10.0.5.1").AsSlice())
	for _, tc := range []struct {
		name     string
		req      []dhcpv4.Modifier
		respType dhcpv4.MessageType
		want     string
	}{
		{"relayed: to the relay's server port", []dhcpv4.Modifier{relay}, dhcpv4.MessageTypeOffer, "10.0.5.1:1067"},
		{"relayed NAK: to the relay too", []dhcpv4.Modifier{relay}, dhcpv4.MessageTypeNak, "10.0.5.1:1067"},
		{"relayed with ciaddr: giaddr wins", []dhcpv4.Modifier{relay, ciaddr}, dhcpv4.MessageTypeAck, "10.0.5.1:1067"},
		{"NAK without relay: broadcast", []dhcpv4.Modifier{ciaddr}, dhcpv4.MessageTypeNak, "255.255.255.255:1068"},
		{"ciaddr: unicast to it", []dhcpv4.Modifier{ciaddr}, dhcpv4.MessageTypeAck, "10.0.0.10:1068"},
		{"broadcast bit: broadcast", []dhcpv4.Modifier{dhcpv4.WithBroadcast(true)}, dhcpv4.MessageTypeOffer, "255.255.255.255:1068"},
		{"no address, no broadcast bit: broadcast (our choice)", nil, dhcpv4.MessageTypeOffer, "255.255.255.255:1068"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := packet(t, dhcpv4.MessageTypeRequest, macWeb, tc.req...)
			resp := newReply(req, tc.respType, testConfig)
			if got := Destination(req, resp, 1068, 1067); got != netip.MustParseAddrPort(tc.want) {
				t.Errorf("Destination = %s, want %s", got, tc.want)
			}
		})
	}
}
