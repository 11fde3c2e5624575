package dhcp

import (
	"context"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// report turns a DHCPACK into a BootEvent, and a pool DHCPACK to an
// unknown MAC into a Discovery as well.
func (s *Server) report(req, resp *dhcpv4.DHCPv4, now time.Time) {
	// A proxyDHCP offer is reported too: EDK II boots from it, asking
	// nothing more.
	if s.events == nil || resp.MessageType() != dhcpv4.MessageTypeAck && !s.cfg.Proxy {
		return
	}
	mac := cloneMAC(req.ClientHWAddr)
	ip := addr4(resp.YourIPAddr)
	if !ip.IsValid() {
		ip = addr4(req.ClientIPAddr) // DHCPINFORM
	}
	ev := BootEvent{Time: now, MAC: mac, IP: ip, BootFile: resp.BootFileNameOption(), Proxy: s.cfg.Proxy}
	h, known := s.hosts.HostByMAC(mac)
	if known {
		ev.Host = h.Name
	}
	s.emit(ev)
	if known || s.cfg.Proxy || req.MessageType() != dhcpv4.MessageTypeRequest {
		return
	}
	d := Discovery{Time: now, MAC: mac, IP: ip, Hostname: req.HostName(), VendorClass: req.ClassIdentifier(), Arch: -1}
	if sub, ok := s.hosts.SubnetFor(ip); ok {
		d.Subnet = sub.Name
	}
	if a := req.ClientArch(); len(a) > 0 {
		d.Arch = int(a[0])
	}
	s.emit(d)
}

// emit queues an event without ever blocking.
func (s *Server) emit(ev any) {
	select {
	case s.queue <- ev:
	default:
		s.stats.eventsLost.Add(1)
	}
}

// pump delivers queued events until ctx is done.
func (s *Server) pump(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-s.queue:
			switch e := ev.(type) {
			case BootEvent:
				s.events.Booted(e)
			case Discovery:
				s.events.Discovered(e)
			case Sighting:
				if o, ok := s.events.(Sightings); ok {
					o.Sighted(e)
				}
			}
			s.stats.events.Add(1)
		}
	}
}
