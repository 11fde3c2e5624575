package images

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
)

// parseMAC reads a 6-byte MAC in the spellings people and firmware write:
// aa:bb:cc:dd:ee:ff (iPXE's ${mac}), AA-BB-CC-DD-EE-FF (${mac:hexhyp},
// Windows), aabb.ccdd.eeff (Cisco) and aabbccddeeff, in either case.
func parseMAC(s string) (net.HardwareAddr, error) {
	if len(s) == 12 {
		b, err := hex.DecodeString(s)
		if err == nil {
			return net.HardwareAddr(b), nil
		}
	}
	mac, err := net.ParseMAC(s)
	if err == nil && len(mac) != 6 {
		err = fmt.Errorf("%d bytes, not 6", len(mac))
	}
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
