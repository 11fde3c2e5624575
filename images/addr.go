package images

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"

	"github.com/provision/provision/internal/macaddr"
)

// parseMAC reads a 6-byte MAC in any spelling macaddr.Parse knows.
func parseMAC(s string) (net.HardwareAddr, error) {
	mac, err := macaddr.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("mac %q: %w (%w)", s, ErrBadRequest, err)
	}
	return mac, nil
}

// clientIP is the IP address of the request's peer, IPv4 unmapped; the
// zero Addr when RemoteAddr is not an address.
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}
