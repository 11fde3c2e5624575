package dhcp

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4/server4"
)

// socketBuffer is the receive buffer asked for (SO_RCVBUF).
const socketBuffer = 4 << 20

// ListenInterface opens a UDP socket bound to iface (SO_BINDTODEVICE) at
// addr, with SO_BROADCAST so that replies can go to 255.255.255.255 on that
// interface. An invalid addr means 0.0.0.0:67, which is what receives the
// broadcasts of clients without an address. Needs CAP_NET_RAW for the
// device binding and CAP_NET_BIND_SERVICE for port 67.
func ListenInterface(iface string, addr netip.AddrPort) (net.PacketConn, error) {
	if !addr.IsValid() {
		addr = netip.AddrPortFrom(netip.IPv4Unspecified(), ServerPort)
	}
	if !addr.Addr().Is4() {
		return nil, fmt.Errorf("dhcp: listen address %s is not IPv4", addr)
	}
	conn, err := server4.NewIPv4UDPConn(iface, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, fmt.Errorf("dhcp: listen on %s %s: %w", iface, addr, err)
	}
	// A PXE rack powering on at once is a burst: let the kernel queue it
	// (capped by net.core.rmem_max) rather than drop it.
	if err := conn.SetReadBuffer(socketBuffer); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dhcp: socket buffer: %w", err)
	}
	return conn, nil
}
