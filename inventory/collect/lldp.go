package collect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/provision/provision/inventory"
)

// EtherTypeLLDP is LLDP's ethertype (IEEE 802.1AB).
const EtherTypeLLDP = 0x88cc

// lldpGroup is the nearest-bridge multicast address LLDP frames are sent
// to, which a NIC's filter drops unless told.
var lldpGroup = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// ErrNoLLDP is ParseLLDP's error for a frame that is not LLDP.
var ErrNoLLDP = errors.New("not an LLDP frame")

// ErrLLDPShutdown is ParseLLDP's error for a shutdown LLDPDU (TTL 0): a
// port saying its neighbour information is void, not a neighbour. Listen
// waits for the next frame (a switch port being reconfigured sends one
// between its old and its new identity).
var ErrLLDPShutdown = errors.New("LLDP shutdown frame (TTL 0)")

// ParseLLDP reads one Ethernet frame carrying LLDP: a malformed or
// truncated frame is an error, never a panic. The strings are as the
// switch sent them (Collect cleans them with the rest of the inventory).
func ParseLLDP(frame []byte) (l *inventory.LLDP, err error) {
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("lldp: malformed frame: %v", r)
		}
	}()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	if e := p.ErrorLayer(); e != nil {
		return nil, fmt.Errorf("lldp: %w", e.Error())
	}
	d, ok := p.Layer(layers.LayerTypeLinkLayerDiscovery).(*layers.LinkLayerDiscovery)
	if !ok {
		return nil, ErrNoLLDP
	}
	if d.TTL == 0 {
		return nil, ErrLLDPShutdown
	}
	l = &inventory.LLDP{
		ChassisID: lldpID(byte(d.ChassisID.Subtype), d.ChassisID.ID, byte(layers.LLDPChassisIDSubTypeMACAddr), byte(layers.LLDPChassisIDSubTypeNetworkAddr)),
		PortID:    lldpID(byte(d.PortID.Subtype), d.PortID.ID, byte(layers.LLDPPortIDSubtypeMACAddr), byte(layers.LLDPPortIDSubtypeNetworkAddr)),
	}
	if info, ok := p.Layer(layers.LayerTypeLinkLayerDiscoveryInfo).(*layers.LinkLayerDiscoveryInfo); ok {
		l.SwitchName, l.PortDescription = info.SysName, info.PortDescription
		if x, err := info.Decode8021(); err == nil {
			l.VLAN = int(x.PVID)
		}
	}
	return l, nil
}

// lldpID is a chassis or port id as text: a MAC address or a network
// address (its IANA family byte, then the address) in their usual
// forms, anything else (a name, a local id) as it is.
func lldpID(subtype byte, id []byte, macType, netType byte) string {
	switch {
	case subtype == macType && len(id) == 6:
		return net.HardwareAddr(id).String()
	case subtype == netType && len(id) == 5 && id[0] == 1, subtype == netType && len(id) == 17 && id[0] == 2:
		return net.IP(id[1:]).String()
	}
	return string(id)
}

// lldp listens on every NIC at once for up to LLDPWait and records the
// first LLDP neighbour each one hears.
func (c *collector) lldp(ctx context.Context, nics []inventory.NIC) {
	wait := c.o.LLDPWait
	if wait == 0 {
		wait = DefaultLLDPWait
	}
	if wait < 0 || len(nics) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range nics {
		wg.Go(func() {
			l, err := Listen(ctx, nics[i].Name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.errorf("lldp: %s: %v", nics[i].Name, err)
				return
			}
			nics[i].LLDP = l
		})
	}
	wg.Wait()
}

// Listen brings the interface up when it is down and returns the first
// LLDP neighbour it hears before ctx is done.
func Listen(ctx context.Context, iface string) (*inventory.LLDP, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	if err := linkUp(ifi); err != nil {
		return nil, err
	}
	conn, err := packet.Listen(ifi, packet.Raw, EtherTypeLLDP, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := joinGroup(conn, ifi.Index); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	start := time.Now()
	buf := make([]byte, 9000)
	var last error
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				if last != nil {
					return nil, last
				}
				return nil, fmt.Errorf("no frame in %s", time.Since(start).Round(time.Second))
			}
			return nil, err
		}
		l, err := ParseLLDP(buf[:n])
		if err == nil {
			return l, nil
		}
		last = err
	}
}

// linkUp sets the interface's IFF_UP flag when it is not set.
func linkUp(ifi *net.Interface) error {
	if ifi.Flags&net.FlagUp != 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bringing it up: %w", err)
	}
	defer unix.Close(fd)
	req, err := unix.NewIfreq(ifi.Name)
	if err != nil {
		return fmt.Errorf("bringing it up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, req); err != nil {
		return fmt.Errorf("bringing it up: %w", err)
	}
	req.SetUint16(req.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, req); err != nil {
		return fmt.Errorf("bringing it up: %w", err)
	}
	return nil
}

// joinGroup makes the NIC pass frames sent to LLDP's multicast address.
func joinGroup(conn *packet.Conn, index int) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	mreq := unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_MULTICAST, Alen: 6}
	copy(mreq.Address[:], lldpGroup)
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptPacketMreq(int(fd), unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("joining the LLDP group: %w", serr)
	}
	return nil
}
