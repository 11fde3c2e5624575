package dnsconf

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Flood tests (issue 27): bounded in packets and seconds, on loopback.
// During each flood a real client (dig) must be answered within
// liveness, and the process's open descriptors stay under a bound
// stated in the test.
const liveness = 200 * time.Millisecond

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// fdWatch samples openFDs until stop, and returns the highest count.
func fdWatch(t *testing.T) (stop func() int) {
	var peak atomic.Int64
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if n := int64(openFDs(t)); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() int { close(done); <-finished; return int(peak.Load()) }
}

var queryTime = regexp.MustCompile(`;; Query time: (\d+) msec`)

// digTime runs dig once (no retry) and returns its answer section and
// the query time dig measured.
func (d *digger) digTime(args ...string) (string, time.Duration) {
	d.t.Helper()
	out := d.dig(append([]string{"+tries=1", "+time=2"}, args...)...)
	m := queryTime.FindStringSubmatch(out)
	if m == nil {
		d.t.Fatalf("dig %v: no query time in\n%s", args, out)
	}
	ms, _ := strconv.Atoi(m[1])
	return out, time.Duration(ms) * time.Millisecond
}

// floodUDP sends n queries for random names outside the zone to addr,
// rate a second, from the source addresses src(i) gives (of 127/8: any
// of them is this host's), a socket for each address.
func floodUDP(t *testing.T, addr string, n, rate int, src func(i int) string) {
	to := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr))
	start := time.Now()
	var c *net.UDPConn
	defer func() { c.Close() }()
	for i := range n {
		if i%50 == 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		if c == nil || c.LocalAddr().(*net.UDPAddr).IP.String() != src(i) {
			if c != nil {
				c.Close()
			}
			var err error
			if c, err = net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src(i))}, to); err != nil {
				t.Errorf("flood from %s: %v", src(i), err)
				return
			}
		}
		q := query(fmt.Sprintf("r%d-%d.flood.example.", i, time.Now().UnixNano()), dns.TypeA)
		q.Id = uint16(i)
		b, _ := q.Pack()
		c.Write(b)
	}
}

// quietUpstream answers A queries for name and reads the others without
// answering, cheaply (the flood's queries are not even parsed).
func quietUpstream(t *testing.T, name string) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	wire, _ := query(name, dns.TypeA).Pack()
	qname := wire[12 : len(wire)-4]
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12+len(qname) || !bytes.EqualFold(buf[12:12+len(qname)], qname) {
				continue
			}
			req := new(dns.Msg)
			if req.Unpack(buf[:n]) != nil {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(req)
			m.RecursionAvailable = true
			m.Answer = []dns.RR{mustRR(t, name+" 3600 IN A 192.0.2.80")}
			b, _ := m.Pack()
			pc.WriteTo(b, from)
		}
	}()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// 12,000 queries for random names (floodRate a second), 6,000 from as
// many made-up addresses and 6,000 from one, to an upstream that answers
// only cached.example:
// a zone name and a cached forwarded name are answered within liveness
// all along, and the descriptors stay under baseline + 64 (before: a
// socket per query in flight, 10,334 in the review's run).
func TestForwardFlood(t *testing.T) {
	d := newDigger(t, "127.0.0.1:53") // skips without dig
	up := quietUpstream(t, "cached.example.")
	srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)},
		Forward: []netip.AddrPort{up}, UpstreamTimeout: time.Second,
		Recursion: func(ip netip.Addr) bool { return ip.IsLoopback() }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Update(testSource(), 7); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	d = newDigger(t, addr)
	if out, _ := d.digTime("A", "cached.example"); !regexp.MustCompile(`cached\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80`).MatchString(out) {
		t.Fatalf("cached.example before the flood:\n%s", out)
	}
	base := openFDs(t)
	peak := fdWatch(t)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // made-up clients: 127.1.x.y
		defer wg.Done()
		floodUDP(t, addr, 6000, floodRate/2, func(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1) })
	}()
	go func() {
		defer wg.Done()
		floodUDP(t, addr, 6000, floodRate/2, func(int) string { return "127.0.0.3" })
	}()
	flooding := make(chan struct{})
	go func() { wg.Wait(); close(flooding) }()

	var worst time.Duration
	rounds := 0
	for done := false; !done; rounds++ {
		select {
		case <-flooding:
			done = true // one more round after the last packet
		default:
		}
		for _, q := range [][]string{{"TXT", "lvs.vrid.dsas"}, {"A", "cached.example"}} {
			out, took := d.digTime(q...)
			if !regexp.MustCompile(`status: NOERROR`).MatchString(out) {
				t.Errorf("dig %v during the flood:\n%s", q, out)
			}
			worst = max(worst, took)
		}
	}
	// The queries in flight time out within the upstream's timeout.
	time.Sleep(time.Second)
	top := peak()
	st := srv.Stats()
	t.Logf("descriptors: %d before the flood, %d at most during it; dig: %d rounds, slowest %v; stats %+v", base, top, rounds, worst, st)
	if worst > liveness {
		t.Errorf("dig took %v during the flood, want at most %v", worst, liveness)
	}
	if top > base+64 {
		t.Errorf("%d descriptors open during the flood, %d before: want at most 64 more", top, base)
	}
}

// 1,000 TCP connections from one client, each sending a query and then
// holding on: dig over TCP from another address and over UDP is answered
// within liveness, and the server holds at most baseline + 64
// descriptors beyond the client's own 1,000.
func TestTCPFlood(t *testing.T) {
	srv := newServer(t)
	if _, err := srv.Update(testSource(), 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	d := newDigger(t, addr)
	base := openFDs(t)
	peak := fdWatch(t)

	const conns = 1000
	held := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	b, _ := query("lvs.vrid.dsas.", dns.TypeTXT).Pack()
	framed := append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, Timeout: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var worst time.Duration
	for i := range conns {
		c, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, c)
		c.Write(framed)
		if i%100 == 99 {
			for _, args := range [][]string{{"+tcp", "-b", "127.0.0.2", "TXT", "lvs.vrid.dsas"}, {"TXT", "lvs.vrid.dsas"}} {
				out, took := d.digTime(args...)
				if !regexp.MustCompile(`status: NOERROR`).MatchString(out) {
					t.Errorf("dig %v with %d connections held:\n%s", args, i+1, out)
				}
				worst = max(worst, took)
			}
		}
	}
	top := peak()
	t.Logf("descriptors: %d before, %d at most with %d client connections held; dig slowest %v; stats %+v", base, top, conns, worst, srv.Stats())
	if worst > liveness {
		t.Errorf("dig took %v with the connections held, want at most %v", worst, liveness)
	}
	if server := top - base - conns; server > 64 {
		t.Errorf("the server held %d descriptors more than before, want at most 64", server)
	}
}

// fakeListener's Accept fails with EMFILE, as when the process has no
// descriptor left, and counts the calls.
type fakeListener struct {
	calls  atomic.Int64
	closed chan struct{}
	once   sync.Once
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

func (l *fakeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

// On EMFILE the accept loop backs off (5 ms, doubling, up to a second)
// instead of spinning: in 500 ms it tries a handful of times, not
// millions.
func TestAcceptBackoff(t *testing.T) {
	ln := &fakeListener{closed: make(chan struct{})}
	srv := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, nil, ln) }()
	time.Sleep(500 * time.Millisecond)
	cancel()
	ln.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n := ln.calls.Load(); n > 20 {
		t.Errorf("Accept called %d times in 500 ms of EMFILE, want a backoff (about 8)", n)
	}
}

// With the process out of descriptors for real (RLIMIT_NOFILE lowered),
// the accept loop waits between tries instead of spinning, and serves
// again once descriptors are free.
func TestAcceptEMFILE(t *testing.T) {
	srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)}, MaxTCPPerClient: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Update(testSource(), 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	low := lim
	low.Cur = uint64(openFDs(t) + 20)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	var held []net.Conn
	restore := func() {
		for _, c := range held {
			c.Close()
		}
		held = nil
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	defer restore()
	for len(held) < 100 { // until the client itself gets EMFILE
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		held = append(held, c)
	}
	before := srv.Stats().AcceptErrors
	time.Sleep(500 * time.Millisecond)
	errs := srv.Stats().AcceptErrors - before
	t.Logf("%d accept errors in 500 ms with %d client connections held", errs, len(held))
	restore()
	if errs == 0 || errs > 20 {
		t.Errorf("%d accept errors in 500 ms out of descriptors, want a few (a backoff, not a spin)", errs)
	}
	if got := render(t, exchange(t, "tcp", addr, query("lvs.vrid.dsas.", dns.TypeTXT))); !strings.HasPrefix(got, "NOERROR id=4711 aa rd\n") {
		t.Errorf("after the descriptors are back: got\n%s", got)
	}
}
