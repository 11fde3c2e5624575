package bind

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/tftp"
)

// BootEvent is the boot event that an HTTP boot request puts on its
// system's timeline: false for a request no system matched, and for a
// report that was refused (it is in the log only).
func BootEvent(e images.BootEvent) (registry.Event, bool) {
	if e.Host == "" || strings.HasPrefix(e.Host, DiscoveryPrefix) {
		return registry.Event{}, false
	}
	ev := registry.Event{At: e.Time, System: e.Host, Kind: e.Kind, IP: e.Client.String(),
		Detail: e.Method + " " + e.Path + " " + strconv.Itoa(e.Status) + " " + strconv.FormatInt(e.Bytes, 10) + "B"}
	if errors.Is(e.Err, images.ErrWithheld) {
		ev.Kind, ev.Detail = "withheld", "the build's script was asked for from "+e.Client.String()+", not the machine's address: answered without it"
	}
	if e.Kind == images.KindReport {
		if e.Step == "" {
			return registry.Event{}, false
		}
		ev.Kind, ev.Detail = e.Step, e.Detail
	}
	if e.MAC != nil {
		ev.MAC = e.MAC.String()
	}
	return ev, true
}

// EventLog is where protocol events go; *registry.EventLog satisfies it.
type EventLog interface{ Record(registry.Event) }

// DHCPEvents puts DHCP acks on the systems' timelines and records the
// unknown machines that took a pool lease (dhcp.Events).
type DHCPEvents struct {
	Events  EventLog
	Dynamic *registry.DynamicLog
	Seen    *Seen // where the addresses DHCP saw registered MACs at go; nil: nowhere
}

var _ dhcp.Sightings = DHCPEvents{}

// Booted records an ack (or a proxy offer) to a registered host.
func (e DHCPEvents) Booted(b dhcp.BootEvent) {
	if b.Host == "" {
		return
	}
	e.Seen.Saw(b.MAC, b.IP)
	detail := "ack " + b.IP.String()
	if b.Proxy { // boot information beside another server's address
		detail = "proxy"
		if b.IP.IsValid() {
			detail += " " + b.IP.String()
		}
	}
	if b.BootFile != "" {
		detail += " boot " + b.BootFile
	}
	e.Events.Record(registry.Event{At: b.Time, System: b.Host, MAC: b.MAC.String(), IP: b.IP.String(), Kind: "dhcp", Detail: detail})
}

// Sighted records the address a registered MAC asked another DHCP server
// for (proxyDHCP): the machine's own, for Seen.FromItself.
func (e DHCPEvents) Sighted(s dhcp.Sighting) { e.Seen.Saw(s.MAC, s.IP) }

// Discovered records a machine the registry does not know. Its hostname
// and vendor class are the client's words: stored without control
// characters.
func (e DHCPEvents) Discovered(d dhcp.Discovery) {
	e.Dynamic.Saw(registry.Discovered{MAC: d.MAC.String(), IP: d.IP.String(), Subnet: d.Subnet, Hostname: textsafe.Strip(d.Hostname),
		VendorClass: textsafe.Strip(d.VendorClass), Arch: d.Arch, FirstSeen: d.Time, LastSeen: d.Time})
}

// TFTPEvent is the event a TFTP transfer puts on the timeline of the
// system it was for (by the MAC of a per-host config, else the client's
// address); false when it was for no system.
func TFTPEvent(snap *registry.Snapshot, t tftp.Transfer) (registry.Event, bool) {
	sys, ok := snap.SystemByMAC(t.MAC)
	if !ok {
		sys, ok = snap.SystemByIP(t.Client)
	}
	if !ok {
		return registry.Event{}, false
	}
	detail := fmt.Sprintf("%s %dB", t.File, t.Bytes)
	if t.Err != nil {
		detail += " error: " + t.Err.Error()
	}
	detail = textsafe.Strip(detail) // the name and a client's error text come from the network
	kind := "tftp"
	if t.Role != "" {
		kind = t.Role // GRUB fetching the kernel or the initrd
	}
	return registry.Event{System: sys.Name, Kind: kind, IP: t.Client.String(), Detail: detail}, true
}

// LoaderEvent is the event of a boot loader fetched over HTTP (UEFI HTTP
// boot) by the system at client, as kind "loader"; false when no system
// has that address.
func LoaderEvent(snap *registry.Snapshot, client netip.Addr, method, path string, status int, bytes int64) (registry.Event, bool) {
	sys, ok := snap.SystemByIP(client.Unmap())
	if !ok {
		return registry.Event{}, false
	}
	return registry.Event{System: sys.Name, Kind: "loader", IP: client.Unmap().String(),
		Detail: fmt.Sprintf("%s %s %d %dB", method, path, status, bytes)}, true
}

// InstallerEvent is an installer's request (template, done, failed) as
// an event of its system.
func InstallerEvent(e kickstart.Event) registry.Event {
	return registry.Event{At: e.Time, System: e.System, Kind: e.Kind, IP: e.Client.String(), Detail: e.Detail}
}

// PowerEvent is a change of a BMC's polled power state (ipmi.Poller's
// Changed) as an event of its system.
func PowerEvent(r ipmi.Reading) registry.Event {
	detail := "the BMC says " + r.State
	if r.Err != nil {
		detail = "the BMC does not answer: " + r.Err.Error()
	}
	return registry.Event{System: r.System, Kind: "power", Detail: detail}
}
