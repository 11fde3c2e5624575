package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
	"github.com/insomniacslk/dhcp/iana"
)

// dhcpClient is the DHCP side of every simulated machine: ONE UDP socket
// bound to 0.0.0.0:68 on the client interface (SO_BINDTODEVICE,
// SO_BROADCAST), shared by all of them, its replies handed to the machine
// waiting for their transaction ID.
//
// nclient4 opens a packet socket (AF_PACKET, ETH_P_IP, no BPF filter) per
// client on the interface and picks UDP port 68 out in Go: each of 1,000
// clients would get a copy of every IPv4 packet on the interface, every
// other client's DHCP reply and every TCP segment of the 40 GB of kernels
// alike, and each holds a file descriptor and a reading goroutine. One UDP
// socket demultiplexed by xid costs one copy per DHCP reply.
//
// What a UDP socket cannot do is send from 0.0.0.0 (the kernel puts the
// interface's primary address, the storm's 10.77.0.2, as the source) or
// receive a unicast OFFER to an address the interface does not have;
// servers answer a request with the broadcast flag set (as PXE ROMs send
// it, and as this client does) by broadcast, and bench/storm.sh also gives
// the client interface every reserved address, since the machines then use
// them for TCP.
type dhcpClient struct {
	conn *net.UDPConn
	dst  *net.UDPAddr

	mu      sync.Mutex
	waiting map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4

	received, stray, malformed atomic.Uint64
}

func newDHCPClient(iface string, server string) (*dhcpClient, error) {
	dst, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		return nil, fmt.Errorf("dhcp server address %q: %w", server, err)
	}
	conn, err := server4.NewIPv4UDPConn(iface, &net.UDPAddr{Port: dhcpv4.ClientPort})
	if err != nil {
		return nil, fmt.Errorf("dhcp client socket on %s: %w", iface, err)
	}
	// A thousand OFFERs arrive in a burst: let the kernel queue them.
	// (SetReadBuffer is capped by net.core.rmem_max; that is enough here.)
	if err := conn.SetReadBuffer(16 << 20); err != nil {
		conn.Close()
		return nil, err
	}
	c := &dhcpClient{conn: conn, dst: dst, waiting: make(map[dhcpv4.TransactionID]chan *dhcpv4.DHCPv4)}
	go c.read()
	return c, nil
}

func (c *dhcpClient) Close() error { return c.conn.Close() }

func (c *dhcpClient) read() {
	buf := make([]byte, 4096)
	for {
		n, _, err := c.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		p, err := dhcpv4.FromBytes(buf[:n])
		if err != nil || p.OpCode != dhcpv4.OpcodeBootReply {
			c.malformed.Add(1) // also our own broadcasts, if the kernel loops them back
			continue
		}
		c.received.Add(1)
		c.mu.Lock()
		ch := c.waiting[p.TransactionID]
		c.mu.Unlock()
		if ch == nil {
			c.stray.Add(1) // a late answer to a finished exchange
			continue
		}
		select {
		case ch <- p:
		default: // the machine is not listening for that many: drop
			c.stray.Add(1)
		}
	}
}

// register reserves a fresh transaction ID and its reply channel.
func (c *dhcpClient) register() (dhcpv4.TransactionID, chan *dhcpv4.DHCPv4) {
	ch := make(chan *dhcpv4.DHCPv4, 8)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		var xid dhcpv4.TransactionID
		binary.BigEndian.PutUint32(xid[:], rand.Uint32())
		if _, used := c.waiting[xid]; !used {
			c.waiting[xid] = ch
			return xid, ch
		}
	}
}

func (c *dhcpClient) unregister(xid dhcpv4.TransactionID) {
	c.mu.Lock()
	delete(c.waiting, xid)
	c.mu.Unlock()
}

// dhcpProfile is what a client sends besides the message type.
type dhcpProfile struct {
	ipxe    bool // the second DHCP, from iPXE: user class "iPXE", option 175
	mac     net.HardwareAddr
	uuid    [16]byte
	retrans time.Duration // wait before a retransmission: retrans + up to retrans of jitter
	resends int           // retransmissions of one message before giving up
}

// options are those of a BIOS PXE ROM (PXE 2.1) or of iPXE's undionly.kpxe
// after it: architecture 0 (option 93), UNDI 2.1 (94), the machine's UUID
// (97), vendor class PXEClient:Arch:00000:UNDI:002001 (60) and, for iPXE,
// user class "iPXE" as iPXE sends it (a bare string, not RFC 3004), its
// feature option 175 and a client identifier (61).
func (p *dhcpProfile) options(t dhcpv4.MessageType) []dhcpv4.Modifier {
	uuid := append([]byte{0}, p.uuid[:]...)
	mods := []dhcpv4.Modifier{
		dhcpv4.WithHwAddr(p.mac),
		dhcpv4.WithBroadcast(true),
		dhcpv4.WithMessageType(t),
		dhcpv4.WithOption(dhcpv4.OptClientArch(iana.INTEL_X86PC)),
		dhcpv4.WithGeneric(dhcpv4.OptionClientNetworkInterfaceIdentifier, []byte{1, 2, 1}),
		dhcpv4.WithGeneric(dhcpv4.OptionClientMachineIdentifier, uuid),
		dhcpv4.WithOption(dhcpv4.OptClassIdentifier("PXEClient:Arch:00000:UNDI:002001")),
	}
	if !p.ipxe {
		mods = append(mods,
			dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1260)),
			dhcpv4.WithOption(dhcpv4.OptParameterRequestList(codes(1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 43, 54, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135)...)))
		return mods
	}
	return append(mods,
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(1472)),
		dhcpv4.WithGeneric(dhcpv4.OptionUserClassInformation, []byte("iPXE")),
		// 175: HTTP (19) = 1, PXE extensions (16) = 1, bzImage (24) = 1
		dhcpv4.WithGeneric(dhcpv4.OptionEtherboot, []byte{19, 1, 1, 16, 1, 1, 24, 1, 1}),
		dhcpv4.WithOption(dhcpv4.OptClientIdentifier(append([]byte{1}, p.mac...))),
		dhcpv4.WithOption(dhcpv4.OptParameterRequestList(codes(1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203)...)))
}

func codes(cs ...uint8) []dhcpv4.OptionCode {
	out := make([]dhcpv4.OptionCode, len(cs))
	for i, c := range cs {
		out[i] = dhcpv4.GenericOptionCode(c)
	}
	return out
}

// errNAK is a DHCPNAK to our REQUEST.
var errNAK = errors.New("DHCPNAK")

// dora runs DISCOVER, OFFER, REQUEST, ACK and returns the ACK; retries
// counts the retransmissions and restarts.
func (c *dhcpClient) dora(ctx context.Context, p *dhcpProfile, retries *int) (*dhcpv4.DHCPv4, error) {
	xid, ch := c.register()
	defer c.unregister(xid)
	start := time.Now()
	for restart := 0; ; restart++ {
		disc := c.message(xid, start, p.options(dhcpv4.MessageTypeDiscover))
		offer, err := c.exchange(ctx, disc, ch, p, retries, dhcpv4.MessageTypeOffer)
		if err != nil {
			return nil, fmt.Errorf("DISCOVER: %w", err)
		}
		req := c.message(xid, start, append(p.options(dhcpv4.MessageTypeRequest),
			dhcpv4.WithOption(dhcpv4.OptRequestedIPAddress(offer.YourIPAddr)),
			dhcpv4.WithOptionCopied(offer, dhcpv4.OptionServerIdentifier)))
		ack, err := c.exchange(ctx, req, ch, p, retries, dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)
		if err != nil {
			return nil, fmt.Errorf("REQUEST %s: %w", offer.YourIPAddr, err)
		}
		if ack.MessageType() == dhcpv4.MessageTypeAck {
			return ack, nil
		}
		if restart >= p.resends {
			return nil, fmt.Errorf("REQUEST %s: %w: %s", offer.YourIPAddr, errNAK, ack.Message())
		}
		*retries++ // RFC 2131 §3.1: after a NAK, start again
	}
}

func (c *dhcpClient) message(xid dhcpv4.TransactionID, start time.Time, mods []dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	m, _ := dhcpv4.New(append(mods, dhcpv4.WithTransactionID(xid))...)
	m.NumSeconds = uint16(time.Since(start) / time.Second)
	return m
}

// exchange sends m and waits for a reply of one of the types want, from
// the server the reply names; it retransmits m (same xid) after 1-2 × retrans.
func (c *dhcpClient) exchange(ctx context.Context, m *dhcpv4.DHCPv4, ch chan *dhcpv4.DHCPv4, p *dhcpProfile, retries *int, want ...dhcpv4.MessageType) (*dhcpv4.DHCPv4, error) {
	pkt := m.ToBytes()
	sid := m.ServerIdentifier()
	began := time.Now()
	for sent := 0; ; sent++ {
		if _, err := c.conn.WriteTo(pkt, c.dst); err != nil {
			return nil, fmt.Errorf("send: %w", err)
		}
		wait := p.retrans + rand.N(p.retrans+1)
		timer := time.NewTimer(wait)
	recv:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil, ctx.Err()
			case <-timer.C:
				break recv
			case r := <-ch:
				if !macEqual(r.ClientHWAddr, p.mac) {
					continue
				}
				if sid != nil && !sid.Equal(r.ServerIdentifier()) {
					continue // another server's answer to our REQUEST for this one
				}
				for _, t := range want {
					if r.MessageType() == t {
						timer.Stop()
						return r, nil
					}
				}
				// e.g. a second OFFER (to a retransmitted DISCOVER) while we wait for the ACK
			}
		}
		if sent >= p.resends {
			return nil, fmt.Errorf("no %s after %d sends over %s", want[0], sent+1, time.Since(began).Round(time.Millisecond))
		}
		*retries++
	}
}

func macEqual(a, b net.HardwareAddr) bool {
	if len(a) < 6 || len(b) < 6 {
		return false
	}
	return string(a[:6]) == string(b[:6])
}
