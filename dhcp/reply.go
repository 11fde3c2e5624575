package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// Env is everything Reply depends on besides the request.
type Env struct {
	Config Config
	Hosts  Hosts
	Leases Leases // nil: no dynamic pools, unknown MACs are always ignored
	Now    time.Time
}

// Reply computes the answer to req. It is pure: it reads the clock only
// through env.Now and changes nothing but env.Leases. A nil reply means stay
// silent; the error then says why, and is nil when silence is the normal
// answer (DHCPRELEASE, a DHCPREQUEST for another server). A reply with an
// error is to be sent all the same: the error says what it lacks
// (ErrNoBootFile), or why a DHCPNAK refuses the request (ErrNAK), for the
// log only.
func Reply(req *dhcpv4.DHCPv4, env Env) (*dhcpv4.DHCPv4, error) {
	mac, err := clientMAC(req)
	if err != nil {
		return nil, err
	}
	if !env.Config.ServerIP.Is4() || env.Hosts == nil {
		return nil, errors.New("dhcp: Env needs Config.ServerIP (IPv4) and Hosts")
	}
	if env.Config.Proxy {
		return proxy(req, mac, env)
	}
	switch t := req.MessageType(); t {
	case dhcpv4.MessageTypeDiscover:
		return discover(req, mac, env)
	case dhcpv4.MessageTypeRequest:
		return request(req, mac, env)
	case dhcpv4.MessageTypeInform:
		return inform(req, mac, env)
	case dhcpv4.MessageTypeRelease:
		return nil, release(req, mac, env)
	case dhcpv4.MessageTypeDecline:
		return nil, decline(req, mac, env)
	default:
		return nil, fmt.Errorf("%w: message type %s from %s", ErrMalformed, t, mac)
	}
}

// clientMAC checks the BOOTP header (RFC 2131 §2) of a request and returns
// the client's Ethernet address.
func clientMAC(req *dhcpv4.DHCPv4) (net.HardwareAddr, error) {
	if req == nil || req.OpCode != dhcpv4.OpcodeBootRequest {
		return nil, fmt.Errorf("%w: not a BOOTREQUEST", ErrMalformed)
	}
	if len(req.ClientHWAddr) != 6 {
		return nil, fmt.Errorf("%w: hardware address length %d, want 6", ErrMalformed, len(req.ClientHWAddr))
	}
	return req.ClientHWAddr, nil
}

func discover(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) (*dhcpv4.DHCPv4, error) {
	b, err := resolve(req, mac, env)
	if err != nil {
		return nil, err
	}
	ip := b.ip
	if b.host == nil {
		if ip, err = env.Leases.Offer(mac, b.subnet, env.Now); err != nil {
			return nil, fmt.Errorf("offer to %s on %s: %w", mac, b.subnet.Name, err)
		}
	}
	return answer(req, dhcpv4.MessageTypeOffer, b, ip, env)
}

// request handles the SELECTING, INIT-REBOOT, RENEWING and REBINDING
// states of RFC 2131 §4.3.2.
func request(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) (*dhcpv4.DHCPv4, error) {
	want := requestedIP(req)
	if !want.IsValid() {
		return nil, fmt.Errorf("%w: DHCPREQUEST from %s names no address", ErrMalformed, mac)
	}
	if sid := addr4(req.ServerIdentifier()); sid.IsValid() && sid != env.Config.ServerIP {
		if _, known := env.Hosts.HostByMAC(mac); !known && env.Leases != nil {
			env.Leases.Forget(mac, want) // it chose another server: free our offer
		}
		return nil, nil
	}
	b, err := resolve(req, mac, env)
	if errors.Is(err, ErrWrongSubnet) {
		return nak(req, env, err)
	}
	if err != nil {
		return nil, err
	}
	if b.host != nil {
		if want != b.ip {
			return nak(req, env, fmt.Errorf("%s requested %s, reserved %s", mac, want, b.ip))
		}
		return answer(req, dhcpv4.MessageTypeAck, b, want, env)
	}
	until := env.Now.Add(leaseTime(b.subnet, env.Config))
	if err := env.Leases.Ack(mac, want, b.subnet, env.Now, until); errors.Is(err, ErrUnavailable) {
		return nil, err // not known to be taken: the client asks again
	} else if err != nil {
		return nak(req, env, err)
	}
	return answer(req, dhcpv4.MessageTypeAck, b, want, env)
}

// inform answers a client that has an address and wants its other
// parameters: no yiaddr, no lease time (RFC 2131 §4.3.5).
func inform(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) (*dhcpv4.DHCPv4, error) {
	ci := addr4(req.ClientIPAddr)
	if !ci.IsValid() {
		return nil, fmt.Errorf("%w: DHCPINFORM from %s without ciaddr", ErrMalformed, mac)
	}
	b, err := resolve(req, mac, env)
	if err != nil {
		return nil, err
	}
	if !b.subnet.Prefix.Contains(ci) {
		return nil, fmt.Errorf("%w: DHCPINFORM from %s for %s outside %s", ErrWrongSubnet, mac, ci, b.subnet.Prefix)
	}
	return answer(req, dhcpv4.MessageTypeAck, b, netip.Addr{}, env)
}

// release frees a pool lease; a reservation outlives any DHCPRELEASE.
func release(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) error {
	if sid := addr4(req.ServerIdentifier()); sid.IsValid() && sid != env.Config.ServerIP {
		return nil
	}
	if _, known := env.Hosts.HostByMAC(mac); known || env.Leases == nil {
		return nil
	}
	if ci := addr4(req.ClientIPAddr); ci.IsValid() {
		env.Leases.Release(mac, ci)
	}
	return nil
}

// decline quarantines a pool address the client found in use; for a
// reservation it can only report the conflict (RFC 2131 §4.3.3).
func decline(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) error {
	ip := addr4(req.RequestedIPAddress())
	if !ip.IsValid() {
		return fmt.Errorf("%w: DHCPDECLINE from %s without option 50", ErrMalformed, mac)
	}
	// RFC 2131 table 5: a DECLINE names the server whose offer it
	// declines. Without ours, anyone could quarantine our pool.
	switch sid := addr4(req.ServerIdentifier()); {
	case !sid.IsValid():
		return fmt.Errorf("%w: DHCPDECLINE from %s without option 54 (server identifier)", ErrMalformed, mac)
	case sid != env.Config.ServerIP:
		return nil // another server's offer
	}
	if h, known := env.Hosts.HostByMAC(mac); known {
		return fmt.Errorf("%w: host %s (%s) reports %s in use by another machine", ErrDeclined, h.Name, mac, ip)
	}
	if env.Leases != nil {
		env.Leases.Decline(mac, ip, env.Now)
	}
	return fmt.Errorf("%w: %s reports pool address %s in use", ErrDeclined, mac, ip)
}

// requestedIP is option 50 (RFC 2132 §9.1), else ciaddr (RENEWING/REBINDING).
func requestedIP(req *dhcpv4.DHCPv4) netip.Addr {
	if ip := addr4(req.RequestedIPAddress()); ip.IsValid() {
		return ip
	}
	return addr4(req.ClientIPAddr)
}

// addr4 converts a packet address; 0.0.0.0, nil and non-IPv4 become the
// zero Addr.
func addr4(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	a = a.Unmap()
	if !a.Is4() || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}
