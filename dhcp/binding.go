package dhcp

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// binding is what a client is entitled to on the network it asks from.
type binding struct {
	host   *Host // nil for a pool client
	subnet Subnet
	ip     netip.Addr // the reservation; zero for a pool client
}

// arrival is the address that identifies the client's network: the relay's
// giaddr; else ciaddr, since a RENEWING client or a DHCPINFORM reaches us
// by unicast from any subnet without a relay (RFC 2131 §4.3.2, §4.3.5);
// else the address of the interface the server listens on.
func arrival(req *dhcpv4.DHCPv4, cfg Config) netip.Addr {
	if gi := addr4(req.GatewayIPAddr); gi.IsValid() {
		return gi
	}
	if ci := addr4(req.ClientIPAddr); ci.IsValid() {
		return ci
	}
	return cfg.ServerIP
}

// resolve finds the client's binding: its reservation if it is registered
// and asks from its own subnet, else the pool of the subnet it asks from.
func resolve(req *dhcpv4.DHCPv4, mac net.HardwareAddr, env Env) (binding, error) {
	at := arrival(req, env.Config)
	if h, ok := env.Hosts.HostByMAC(mac); ok {
		s := hostSubnet(h, env.Hosts)
		if !s.Prefix.Contains(h.IP) {
			return binding{}, fmt.Errorf("%w: host %s reserves %s outside its subnet %s", ErrWrongSubnet, h.Name, h.IP, s.Prefix)
		}
		if !s.Prefix.Contains(at) {
			return binding{}, fmt.Errorf("%w: host %s (%s) asks from %s, reserved on %s", ErrWrongSubnet, h.Name, mac, at, s.Prefix)
		}
		return binding{host: &h, subnet: s, ip: h.IP}, nil
	}
	s, ok := env.Hosts.SubnetFor(at)
	if !ok {
		return binding{}, fmt.Errorf("%w: %s asks from %s, a subnet not served", ErrUnknownMAC, mac, at)
	}
	if !s.HasPool() || env.Leases == nil {
		return binding{}, fmt.Errorf("%w: %s on %s, which has no pool", ErrUnknownMAC, mac, s.Name)
	}
	return binding{subnet: s}, nil
}

// hostSubnet is h.Subnet, or the snapshot's subnet for h.IP when the host
// came without one.
func hostSubnet(h Host, hosts Hosts) Subnet {
	if h.Subnet.Prefix.IsValid() {
		return h.Subnet
	}
	if s, ok := hosts.SubnetFor(h.IP); ok {
		return s
	}
	return h.Subnet
}

// newReply starts a BOOTREPLY for req (RFC 2131 §4.3.1, table 3).
func newReply(req *dhcpv4.DHCPv4, t dhcpv4.MessageType, cfg Config) *dhcpv4.DHCPv4 {
	zero := net.IPv4zero.To4()
	resp := &dhcpv4.DHCPv4{
		OpCode:        dhcpv4.OpcodeBootReply,
		HWType:        req.HWType,
		TransactionID: req.TransactionID,
		Flags:         req.Flags,
		ClientIPAddr:  zero,
		YourIPAddr:    zero,
		ServerIPAddr:  zero,
		GatewayIPAddr: zero,
		ClientHWAddr:  req.ClientHWAddr,
		Options:       dhcpv4.Options{},
	}
	if gi := addr4(req.GatewayIPAddr); gi.IsValid() {
		resp.GatewayIPAddr = gi.AsSlice()
	}
	resp.UpdateOption(dhcpv4.OptMessageType(t))
	resp.UpdateOption(dhcpv4.OptServerIdentifier(cfg.ServerIP.AsSlice())) // option 54
	copyOption(resp, req, dhcpv4.OptionRelayAgentInformation)             // option 82, RFC 3046 §2.2
	copyOption(resp, req, dhcpv4.OptionClientIdentifier)                  // option 61, RFC 6842
	return resp
}

func copyOption(resp, req *dhcpv4.DHCPv4, code dhcpv4.OptionCode) {
	if v := req.Options.Get(code); v != nil {
		resp.UpdateOption(dhcpv4.OptGeneric(code, v))
	}
}

// nak refuses a DHCPREQUEST (RFC 2131 §4.3.2). Through a relay the
// broadcast bit is set so that the relay broadcasts it. The message on the
// wire (option 56) is generic: why, which may name another client's MAC
// or a reservation, is returned as the error (wrapping ErrNAK), for the
// appliance's log only.
func nak(req *dhcpv4.DHCPv4, env Env, why error) (*dhcpv4.DHCPv4, error) {
	resp := newReply(req, dhcpv4.MessageTypeNak, env.Config)
	resp.UpdateOption(dhcpv4.OptMessage(nakMessage)) // option 56
	if addr4(req.GatewayIPAddr).IsValid() {
		resp.SetBroadcast()
	}
	return resp, fmt.Errorf("%w: %w", ErrNAK, why)
}

// nakMessage is option 56 of every DHCPNAK.
const nakMessage = "requested address not available"
