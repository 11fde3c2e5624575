package bind

import (
	"strconv"

	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
)

// BootEvent is the boot event that an HTTP boot request puts on its
// system's timeline: false for a request no system matched, and for a
// report that was refused (it is in the log only).
func BootEvent(e images.BootEvent) (registry.Event, bool) {
	if e.Host == "" {
		return registry.Event{}, false
	}
	ev := registry.Event{At: e.Time, System: e.Host, Kind: e.Kind, IP: e.Client.String(),
		Detail: e.Method + " " + e.Path + " " + strconv.Itoa(e.Status) + " " + strconv.FormatInt(e.Bytes, 10) + "B"}
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
