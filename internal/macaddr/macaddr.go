// Package macaddr parses 48-bit MAC addresses in the spellings people
// and firmware write: aa:bb:cc:dd:ee:ff (iPXE's ${mac}), AA-BB-CC-DD-EE-FF
// (${mac:hexhyp}, Windows), aabb.ccdd.eeff (Cisco) and aabbccddeeff, in
// either case. The registry compares MACs in this canonical form, and the
// HTTP boot handler accepts the same spellings in URLs.
package macaddr

import (
	"encoding/hex"
	"fmt"
	"net"
	"strings"
)

// Parse returns the 6-byte address written in s.
func Parse(s string) (net.HardwareAddr, error) {
	t := strings.TrimSpace(s)
	if len(t) == 12 {
		if b, err := hex.DecodeString(t); err == nil {
			return net.HardwareAddr(b), nil
		}
	}
	hw, err := net.ParseMAC(t)
	if err != nil {
		return nil, err
	}
	if len(hw) != 6 {
		return nil, fmt.Errorf("%d bytes, not 6", len(hw))
	}
	return hw, nil
}
