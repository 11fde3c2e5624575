package lab

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ICMPv6 types of neighbour discovery (RFC 4861 section 4).
const (
	icmpRouterSolicitation  = 133
	icmpRouterAdvertisement = 134
)

// emptyRouterAdvertisement is an RA (RFC 4861 section 4.2) that offers
// nothing: hop limit 0 (unspecified), no M or O flag (no DHCPv6), router
// lifetime 0 (not a default router), no options. The kernel fills in the
// checksum of raw ICMPv6 sockets.
var emptyRouterAdvertisement = [16]byte{icmpRouterAdvertisement}

// answerRouterSolicitations answers each router solicitation on the bridge
// with emptyRouterAdvertisement, sent to all nodes (ff02::1) from fe80::1.
//
// iPXE's ifconf runs its DHCPv4 and IPv6 configurators side by side and
// waits for both; without a router, IPv6 gives up only after about 15 s of
// solicitations. An RA without M/O flags ends it at once.
func (e *Env) answerRouterSolicitations(n *Net) error {
	if err := run("ip", "-n", n.BridgeNS, "addr", "add", "fe80::1/64", "dev", BridgeIface, "nodad"); err != nil {
		return err
	}
	var c *net.IPConn
	var idx int
	err := inNamespace(n.BridgeNS, func() error {
		ifi, err := net.InterfaceByName(BridgeIface)
		if err != nil {
			return err
		}
		idx = ifi.Index
		pc, err := net.ListenPacket("ip6:ipv6-icmp", "::")
		if err != nil {
			return err
		}
		c = pc.(*net.IPConn)
		return nil
	})
	if err == nil {
		err = routerSocketOptions(c, idx)
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		return fmt.Errorf("lab: router advertisements on %s: %w", n.BridgeNS, err)
	}
	done := make(chan struct{})
	go answerLoop(c, idx, done)
	e.Defer(func() {
		c.Close()
		<-done
	})
	return nil
}

// routerSocketOptions joins all-routers (ff02::2), where solicitations go,
// and sets the hop limit to 255, which receivers of NDP require.
func routerSocketOptions(c *net.IPConn, idx int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		mreq := &syscall.IPv6Mreq{Multiaddr: [16]byte{0xff, 0x02, 15: 2}, Interface: uint32(idx)}
		serr = syscall.SetsockoptIPv6Mreq(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_JOIN_GROUP, mreq)
		for _, opt := range []int{syscall.IPV6_MULTICAST_HOPS, syscall.IPV6_UNICAST_HOPS} {
			if serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, opt, 255)
			}
		}
		if serr == nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_IF, idx)
		}
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("setsockopt: %w", serr)
	}
	return nil
}

// answerLoop runs until c is closed. The zone is the numeric interface
// index: a zone name would be looked up in this thread's namespace.
func answerLoop(c *net.IPConn, idx int, done chan<- struct{}) {
	defer close(done)
	allNodes := &net.IPAddr{IP: net.ParseIP("ff02::1"), Zone: strconv.Itoa(idx)}
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		if n > 0 && buf[0] == icmpRouterSolicitation {
			c.WriteTo(emptyRouterAdvertisement[:], allNodes)
		}
	}
}
