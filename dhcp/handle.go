package dhcp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// handle answers one datagram. It never blocks on anything but the socket.
// toPeer sends the reply back to peer (the PXE boot server port) unless
// it came through a relay.
func (s *Server) handle(conn net.PacketConn, pkt []byte, peer net.Addr, toPeer bool) {
	now := s.cfg.Now()
	req, err := dhcpv4.FromBytes(pkt)
	if err != nil {
		s.stats.malformed.Add(1)
		s.log.Debug("dhcp: dropping malformed packet", "peer", peer.String(), "err", err)
		return
	}
	key := string(req.ClientHWAddr)
	if !s.limit.Allow(key, now) {
		s.stats.limited.Add(1)
		return
	}
	cfg := s.cfg
	cfg.ServerIP = s.ServerIP()
	hosts := s.hosts
	if p, ok := hosts.(SnapshotHosts); ok {
		hosts = p.Snapshot() // one version for the whole packet
	}
	resp, err := Reply(req, Env{Config: cfg, Hosts: hosts, Leases: s.leases, Now: now})
	if resp == nil {
		if s.cfg.Proxy {
			s.sighted(req, hosts, now)
		}
		s.stats.ignored.Add(1)
		if err != nil && s.quiet.Allow(key, now) {
			s.log.Log(context.Background(), dropLevel(err), "dhcp: no reply",
				"mac", req.ClientHWAddr.String(), "xid", req.TransactionID.String(), "peer", peer.String(), "err", err)
		}
		return
	}
	switch {
	case resp.MessageType() == dhcpv4.MessageTypeNak && s.quiet.Allow(key, now):
		s.log.Info("dhcp: NAK", "mac", req.ClientHWAddr.String(), "xid", req.TransactionID.String(), "why", err)
	case err != nil && s.quiet.Allow(key, now): // a reply lacking something, ErrNoBootFile
		s.log.Warn("dhcp: reply without a boot file", "mac", req.ClientHWAddr.String(), "xid", req.TransactionID.String(),
			"type", resp.MessageType().String(), "err", err)
	}
	dst := net.UDPAddrFromAddrPort(Destination(req, resp, s.cfg.ClientPort, s.cfg.RelayPort))
	if p, ok := peer.(*net.UDPAddr); ok && toPeer && !addr4(req.GatewayIPAddr).IsValid() {
		dst = p
	}
	if _, err := conn.WriteTo(resp.ToBytes(), dst); err != nil {
		s.log.Warn("dhcp: send", "mac", req.ClientHWAddr.String(), "to", dst.String(), "err", err)
		return
	}
	s.stats.replied.Add(1)
	s.report(req, resp, now)
}

// sighted reports a registered MAC's DHCPREQUEST for another server's
// address (a Sighting), in proxyDHCP mode.
func (s *Server) sighted(req *dhcpv4.DHCPv4, hosts Hosts, now time.Time) {
	if req.MessageType() != dhcpv4.MessageTypeRequest {
		return
	}
	ip := addr4(req.RequestedIPAddress())
	if !ip.IsValid() {
		ip = addr4(req.ClientIPAddr)
	}
	if !ip.IsValid() {
		return
	}
	if _, known := hosts.HostByMAC(req.ClientHWAddr); known {
		s.emit(Sighting{Time: now, MAC: cloneMAC(req.ClientHWAddr), IP: ip})
	}
}

// dropLevel: unknown MACs are routine, a malformed request is noise, the
// rest (wrong subnet, exhausted pool, declined address) needs a look.
func dropLevel(err error) slog.Level {
	switch {
	case errors.Is(err, ErrUnknownMAC):
		return slog.LevelInfo
	case errors.Is(err, ErrMalformed):
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
