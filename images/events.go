package images

import (
	"net"
	"net/netip"
	"time"
)

// BootEvent is one HTTP boot request as the appliance puts it on a
// system's timeline. It is reported once the response is done.
type BootEvent struct {
	Time     time.Time        // when the request arrived
	Duration time.Duration    // until the response was done
	Host     string           // system name; empty when no system matched
	MAC      net.HardwareAddr // from /boot/<mac>.ipxe, else the system's; nil when unknown
	Kind     string           // KindScript, KindSums or the file's role (KindKernel...); empty for an unknown file
	Method   string           // GET or HEAD
	Path     string           // the request's URL path
	Client   netip.Addr       // the client's IP address
	Status   int              // HTTP status sent
	Bytes    int64            // body bytes sent
	// Err says why a request failed (see the Err* variables), or that the
	// client went away mid-body; nil otherwise.
	Err error
	// Step and Detail are what a host reported (Kind KindReport).
	Step, Detail string
}
