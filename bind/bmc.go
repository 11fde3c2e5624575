package bind

import (
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// BMC is how ipmi reaches sys's BMC, with its password; false when sys
// has none.
func BMC(sys *registry.System) (ipmi.BMC, bool) {
	b := sys.BMC
	if b == nil {
		return ipmi.BMC{}, false
	}
	return ipmi.BMC{System: sys.Name, Address: b.Address, Port: b.Port, User: b.User, Password: string(b.Password), Provider: b.Provider,
		Fingerprint: b.Fingerprint, Insecure: b.Insecure}, true
}
