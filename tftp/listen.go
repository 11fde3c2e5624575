package tftp

import (
	"net"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// requestConn is the server's well-known port (69). It reads requests with
// the local address each came to (IP_PKTINFO / IPV6_PKTINFO), so that a
// transfer answers from the address the client asked, and the interface,
// whose MTU bounds the block size. Where the control messages are not
// available, local is nil and the kernel picks the source address.
type requestConn struct {
	conn *net.UDPConn
	v4   *ipv4.PacketConn // one of v4 and v6 is set when control messages work
	v6   *ipv6.PacketConn
}

func newRequestConn(conn *net.UDPConn) *requestConn {
	rc := &requestConn{conn: conn}
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		rc.v4 = ipv4.NewPacketConn(conn)
		if rc.v4.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true) != nil {
			rc.v4 = nil
		}
	} else {
		rc.v6 = ipv6.NewPacketConn(conn)
		if rc.v6.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true) != nil {
			rc.v6 = nil
		}
	}
	return rc
}

// packetInfo is where a request came from and to.
type packetInfo struct {
	peer    *net.UDPAddr
	local   net.IP // nil if unknown
	ifIndex int    // 0 if unknown
}

// read reads one datagram into buf.
func (rc *requestConn) read(buf []byte) (int, packetInfo, error) {
	var (
		n    int
		info packetInfo
		src  net.Addr
		err  error
	)
	switch {
	case rc.v4 != nil:
		var cm *ipv4.ControlMessage
		n, cm, src, err = rc.v4.ReadFrom(buf)
		if cm != nil {
			info.local, info.ifIndex = cm.Dst, cm.IfIndex
		}
	case rc.v6 != nil:
		var cm *ipv6.ControlMessage
		n, cm, src, err = rc.v6.ReadFrom(buf)
		if cm != nil {
			info.local, info.ifIndex = cm.Dst, cm.IfIndex
		}
	default:
		n, src, err = rc.conn.ReadFrom(buf)
	}
	if err != nil {
		return 0, info, err
	}
	info.peer, _ = src.(*net.UDPAddr)
	if info.local != nil && (info.local.Equal(net.IPv4bcast) || info.local.IsMulticast()) {
		info.local = nil // a broadcast request is answered from the interface's own address
	}
	return n, info, nil
}

// reply sends p to the request's client from the address it asked, or
// from the address the kernel picks where that cannot be said.
func (rc *requestConn) reply(p []byte, info packetInfo) error {
	var err error
	switch {
	case rc.v4 != nil && info.local != nil:
		_, err = rc.v4.WriteTo(p, &ipv4.ControlMessage{Src: info.local}, info.peer)
	case rc.v6 != nil && info.local != nil:
		_, err = rc.v6.WriteTo(p, &ipv6.ControlMessage{Src: info.local}, info.peer)
	default:
		_, err = rc.conn.WriteToUDP(p, info.peer)
		return err
	}
	if err != nil {
		_, err = rc.conn.WriteToUDP(p, info.peer)
	}
	return err
}

// mtus caches interfaces' MTUs by index: net.InterfaceByIndex asks the
// kernel for every interface, too slow for a packet path.
type mtus struct {
	mu sync.Mutex
	m  map[int]int
}

// get returns the MTU of interface index, or 0 if unknown.
func (c *mtus) get(index int) int {
	if index == 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if mtu, ok := c.m[index]; ok {
		return mtu
	}
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return 0
	}
	if c.m == nil {
		c.m = make(map[int]int)
	}
	c.m[index] = ifi.MTU
	return ifi.MTU
}
