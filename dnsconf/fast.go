package dnsconf

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// The UDP fast path. A query that is plain (one question, all lowercase,
// class IN, at most an EDNS0 OPT record without error) is answered from
// bytes prepared the first time the same question was asked of the same
// zone by a client of the same kind (EDNS size and DO bit, RD, CD, RA):
// only the ID is patched, no message is parsed or packed, nothing is
// allocated. Everything else (upper case, other classes, several
// questions, malformed packets, forwarded names) goes the slow way, with
// miekg/dns, and gives the same bytes it always gave: the prepared bytes
// are exactly the slow path's.

// socketBuffer is the kernel buffer of the sockets serveUDP adds (the
// kernel caps it at net.core.rmem_max and wmem_max).
const socketBuffer = 4 << 20

// maxPrepared bounds the answers one worker keeps for one zone: past it
// (a flood of random names), it starts again from none. The bound is at
// least minPrepared, and grows with the zone: two answers a name (a
// fleet's clients ask each name for one or two types).
const minPrepared = 1 << 18

func maxPrepared(z *Zone) int {
	if z == nil {
		return minPrepared
	}
	return max(minPrepared, 2*(z.nodes.n+z.hostNodes+z.addrNodes))
}

// worker reads one UDP socket and keeps its own prepared answers (no
// locks between workers).
type worker struct {
	s       *Server
	conn    *net.UDPConn
	zone    *Zone
	answers *answerTable
	limit   int             // maxPrepared(zone)
	hits    *workerCounters // the prepared answers it sent
	key     []byte
}

// ListenUDP opens a UDP socket on addr with SO_REUSEPORT, so that Serve
// can open one more on the same address for each CPU and spread queries
// over them.
func ListenUDP(addr string) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: reusePort}
	c, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.UDPConn), nil
}

func reusePort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
	if err != nil {
		return err
	}
	return serr
}

// serveUDP answers on conn, and on one more SO_REUSEPORT socket of its
// address for each further CPU when conn was opened by ListenUDP, until
// ctx ends.
func (s *Server) serveUDP(ctx context.Context, conn *net.UDPConn) error {
	conns := []*net.UDPConn{conn}
	for range runtime.GOMAXPROCS(0) - 1 {
		c, err := ListenUDP(conn.LocalAddr().String())
		if err != nil {
			break // conn has no SO_REUSEPORT: one socket it is
		}
		conns = append(conns, c)
	}
	for _, c := range conns[1:] {
		c.SetReadBuffer(socketBuffer) // bursts queue instead of dropping
		c.SetWriteBuffer(socketBuffer)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range conns {
		w := &worker{s: s, conn: c, key: make([]byte, 0, 300), hits: s.stats.worker()}
		g.Go(func() error { return w.run(gctx) })
	}
	g.Go(func() error { // a cancelled ctx or a failed socket stops them all
		<-gctx.Done()
		for _, c := range conns {
			c.Close()
		}
		return nil
	})
	return g.Wait()
}

// batch is how many datagrams one recvmmsg reads and one sendmmsg
// writes (Linux: mmsg_linux.go; elsewhere golang.org/x/net's batches).
const batch = 32

// packet answers one query: a prepared answer is copied into out and
// returned, to be sent with the batch; others are sent from here (or
// from the goroutine that forwards them), and packet returns nil.
func (w *worker) packet(ctx context.Context, b []byte, from netip.AddrPort, out []byte) []byte {
	s := w.s
	ip := from.Addr().Unmap()
	if s.cfg.Trusted != nil && !s.cfg.Trusted(ip) && !s.limit.Allow(ip.String(), time.Now()) {
		s.stats.limited.Add(1)
		return nil
	}
	recurse := s.mayRecurse(ip)
	z := s.Zone()
	if z != w.zone || w.answers == nil || w.answers.len() >= w.limit {
		w.zone, w.answers, w.limit = z, newAnswerTable(), maxPrepared(z)
	}
	key, ok := w.plainKey(b, recurse, s.cfg.MaxUDP)
	if ok && z != nil {
		if p, ans, ok := w.answers.get(key); ok && !p.fwd {
			w.hits.queries.Add(1) // the worker's own counters: no cache line shared with the other workers
			if p.tc {
				w.hits.truncated.Add(1)
			}
			w.hits.rcodes[p.rcode].Add(1)
			out = append(out[:0], ans...)
			out[0], out[1] = b[0], b[1]
			return out
		}
	}
	// The slow way: parse, answer or forward, and keep the answer of a
	// plain query for the next time.
	s.stats.queries.Add(1)
	req, refusal := s.parse(b, s.cfg.MaxUDP, recurse)
	if req == nil {
		if refusal != nil {
			w.conn.WriteToUDPAddrPort(refusal, from)
		}
		return nil
	}
	m, b2 := s.respond(ctx, ip, req, s.cfg.MaxUDP, true, func(m *dns.Msg, b []byte) {
		if m != nil && b != nil {
			s.stats.reply(m)
			w.conn.WriteToUDPAddrPort(b, from)
		}
	})
	if m == nil || b2 == nil {
		if ok && recurse && forwardable(z, req, s.cfg.MaxUDP) {
			w.answers.put(key, nil, 0, false, true) // forwarded: the slow way every time
		}
		return nil
	}
	s.stats.reply(m)
	w.conn.WriteToUDPAddrPort(b2, from)
	if ok && z != nil {
		w.answers.put(key, b2, min(max(m.Rcode, 0), len(s.stats.rcodes)-1), m.Truncated, false)
	}
	return nil
}

// header reads a message's header.
func header(b []byte) (dns.Header, bool) {
	if len(b) < 12 {
		return dns.Header{}, false
	}
	u := func(i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }
	return dns.Header{Id: u(0), Bits: u(2), Qdcount: u(4), Ancount: u(6), Nscount: u(8), Arcount: u(10)}, true
}

// plainKey returns the key of a plain query's prepared answer, or false
// for a query the fast path does not take. The key holds the question's
// name and type and everything else the answer depends on: the RD and CD
// bits, whether the client may recurse (RA), and the EDNS0 record's
// presence, DO bit and the reply size it allows.
func (w *worker) plainKey(b []byte, ra bool, maxUDP int) ([]byte, bool) {
	if len(b) < 12+5 {
		return nil, false
	}
	if b[2]&0xf8 != 0 || b[3]&0x0f != 0 || b[4] != 0 || b[5] != 1 || b[6]|b[7]|b[8]|b[9]|b[10] != 0 || b[11] > 1 {
		return nil, false // a response, an opcode but QUERY, an rcode, not one question, records
	}
	key := w.key[:0]
	i := 12
	for {
		if i >= len(b) {
			return nil, false
		}
		l := int(b[i])
		if l == 0 {
			i++
			break
		}
		if l > 63 || i+1+l > len(b) || i-12+1+l > 254 {
			return nil, false // a pointer, or too long
		}
		for _, c := range b[i+1 : i+1+l] {
			if c >= 'A' && c <= 'Z' || c == '.' || c == '\\' || c < 0x21 || c > 0x7e {
				return nil, false // upper case (echoed as asked), or escaped in text form
			}
		}
		key = append(key, b[i:i+1+l]...)
		i += 1 + l
	}
	if i+4 > len(b) || b[i+2] != 0 || b[i+3] != 1 {
		return nil, false // class IN only
	}
	key = append(key, 0, b[i], b[i+1], b[2]&1, b[3]&0x10)
	if ra {
		key = append(key, 1)
	} else {
		key = append(key, 0)
	}
	i += 4
	if b[11] == 0 {
		if i != len(b) {
			return nil, false
		}
		return append(key, 0, 0, 0), true
	}
	// One OPT record: root name, type 41, class = UDP size, TTL = extended
	// rcode, version and flags, then options (ignored, as the slow path
	// ignores them).
	if i+11 > len(b) || b[i] != 0 || b[i+1] != 0 || b[i+2] != 41 {
		return nil, false
	}
	size := int(b[i+3])<<8 | int(b[i+4])
	if b[i+5] != 0 || b[i+6] != 0 { // extended rcode, version 0
		return nil, false
	}
	rdlen := int(b[i+9])<<8 | int(b[i+10])
	if i+11+rdlen != len(b) {
		return nil, false
	}
	limit := min(max(size, dns.MinMsgSize), advertised(maxUDP))
	return append(key, 1, byte(limit>>8), byte(limit), b[i+7]&0x80), true
}
