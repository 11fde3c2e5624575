package dnsconf

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// The UDP sockets to an upstream resolver: a few connected sockets
// shared by every query in flight, each read by one goroutine that hands
// a reply to the query of the same ID and question. A socket is replaced
// after rotateAfter queries, so that its source port does not stay the
// same for ever (a forged reply must guess the port, the ID and the
// question); the old one is closed once its last query had its time.
const (
	poolSize    = 4
	rotateAfter = 4096
)

// udpPool is the UDP sockets to one upstream.
type udpPool struct {
	addr    string
	timeout time.Duration // one try: how long a socket read after it retires

	mu     sync.Mutex
	links  [poolSize]*udpLink
	next   int
	closed bool
}

// udpLink is one connected socket and the queries waiting for its replies.
type udpLink struct {
	conn *net.UDPConn
	sent int // queries sent (pool.mu)

	mu      sync.Mutex
	pending map[pendingKey]chan *dns.Msg
}

// pendingKey matches a reply to its query: the ID and the question.
type pendingKey struct {
	id            uint16
	name          string // lowercase
	qtype, qclass uint16
}

func keyOf(id uint16, q dns.Question) pendingKey {
	return pendingKey{id: id, name: strings.ToLower(q.Name), qtype: q.Qtype, qclass: q.Qclass}
}

// errPoolClosed: Serve has ended.
var errPoolClosed = errors.New("upstream sockets closed")

// link returns the next socket, dialing it when there is none yet or
// when the one there has carried rotateAfter queries.
func (p *udpPool) link() (*udpLink, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	i := p.next
	p.next = (p.next + 1) % poolSize
	l := p.links[i]
	if l != nil && l.sent < rotateAfter {
		l.sent++
		return l, nil
	}
	c, err := net.Dial("udp", p.addr)
	if err != nil {
		return nil, err
	}
	if l != nil { // retired: its reader stops once the last query's try is over
		l.conn.SetReadDeadline(time.Now().Add(p.timeout))
	}
	l = &udpLink{conn: c.(*net.UDPConn), sent: 1, pending: map[pendingKey]chan *dns.Msg{}}
	p.links[i] = l
	go l.read()
	return l, nil
}

// open lets queries dial sockets again after close.
func (p *udpPool) open() {
	p.mu.Lock()
	p.closed = false
	p.mu.Unlock()
}

// close closes the sockets; a later query gets errPoolClosed.
func (p *udpPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for i, l := range p.links {
		if l != nil {
			l.conn.Close()
			p.links[i] = nil
		}
	}
}

// exchange sends q (its ID is replaced by a random one free on the
// socket) and waits for the reply until ctx ends.
func (p *udpPool) exchange(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
	l, err := p.link()
	if err != nil {
		return nil, err
	}
	ch := make(chan *dns.Msg, 1)
	k := l.register(q, ch)
	defer l.forget(k)
	b, err := q.Pack()
	if err != nil {
		return nil, err
	}
	if _, err := l.conn.Write(b); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no reply over udp: %w", ctx.Err())
	}
}

// register gives q a random ID that no query waiting on l has for the
// same question, and files ch to receive its reply.
func (l *udpLink) register(q *dns.Msg, ch chan *dns.Msg) pendingKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		q.Id = uint16(rand.Uint32())
		k := keyOf(q.Id, q.Question[0])
		if _, taken := l.pending[k]; !taken {
			l.pending[k] = ch
			return k
		}
	}
}

func (l *udpLink) forget(k pendingKey) {
	l.mu.Lock()
	delete(l.pending, k)
	l.mu.Unlock()
}

// read hands each reply to the query waiting for it, and drops the rest
// (late replies, replies to no question asked), until the socket is
// closed or its read deadline (set when it retires) passes.
func (l *udpLink) read() {
	defer l.conn.Close()
	buf := make([]byte, dns.MaxMsgSize)
	for {
		n, err := l.conn.Read(buf)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue // an ICMP port unreachable of an earlier query
		}
		if err != nil {
			return
		}
		r := new(dns.Msg)
		if r.Unpack(buf[:n]) != nil || !r.Response || len(r.Question) != 1 {
			continue
		}
		k := keyOf(r.Id, r.Question[0])
		l.mu.Lock()
		ch := l.pending[k]
		delete(l.pending, k)
		l.mu.Unlock()
		if ch != nil {
			ch <- r // buffered: the query may have stopped waiting
		}
	}
}
