package api

import "github.com/provision/provision/registry"

// InterfaceView is one of a system's network interfaces as the report
// and `system interface list --json` show it: the registry's fields with
// its kind and the address it carries (the system's IP on the primary).
type InterfaceView struct {
	registry.Interface
	Kind    string `json:"kind"`
	Address string `json:"address,omitempty"`
}

// Interfaces is sys's interfaces (registry.System.Ifaces: those of a
// system with MACs only too) as InterfaceViews.
func Interfaces(sys *registry.System) []InterfaceView {
	views := []InterfaceView{}
	for _, i := range sys.Ifaces() {
		v := InterfaceView{Interface: i, Kind: i.Kind(), Address: i.IP}
		if i.Primary {
			v.Address = sys.IP
		}
		views = append(views, v)
	}
	return views
}
