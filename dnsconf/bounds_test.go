package dnsconf

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// newBounded serves the test zone, forwarding for every loopback client
// to upstreams with cfg's bounds.
func newBounded(t *testing.T, cfg Config, upstreams ...netip.AddrPort) (*Server, string) {
	t.Helper()
	cfg.Zone = Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)}
	cfg.Forward, cfg.Recursion = upstreams, func(ip netip.Addr) bool { return ip.IsLoopback() }
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Update(testSource(), 7); err != nil {
		t.Fatal(err)
	}
	return srv, startServer(t, srv)
}

// Twenty clients asking the same question at once make one upstream
// query, and all get its answer.
func TestForwardCoalesces(t *testing.T) {
	release := make(chan struct{})
	up := startUpstream(t, func(req *dns.Msg) *dns.Msg {
		<-release // hold the answer until every client has asked
		return records(t, "x 300 IN A 192.0.2.80")(req)
	})
	srv, addr := newBounded(t, Config{UpstreamTimeout: 5 * time.Second}, up.addr)
	var wg sync.WaitGroup
	answers := make([]string, 20)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := fmt.Sprintf("127.0.2.%d", i+1)
			answers[i] = render(t, exchangeFrom(t, "udp", src, addr, query("mirror.example.", dns.TypeA)))
		}()
	}
	for srv.Stats().InFlight < 20 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the last ones into the flight
	close(release)
	wg.Wait()
	for i, got := range answers {
		if want := "NOERROR id=4711 rd ra\nQ mirror.example. IN A\nAN mirror.example. 300 IN A 192.0.2.80"; got != want {
			t.Errorf("client %d: got\n%s\nwant\n%s", i, got, want)
		}
	}
	if n := up.queries("udp"); n != 1 {
		t.Errorf("upstream got %d queries for 20 identical ones in flight, want 1", n)
	}
	if st := srv.Stats(); st.Forwarded != 1 || st.Coalesced+st.CacheHits != 19 {
		t.Errorf("Stats: %d forwarded, %d coalesced, %d from the cache; want 1 and 19 others", st.Forwarded, st.Coalesced, st.CacheHits)
	}
}

// Queries waiting for an upstream are bounded: past a client's share it
// gets REFUSED, past the total SERVFAIL, at once; a slot given back is
// taken again.
func TestForwardInFlightBounds(t *testing.T) {
	srv, addr := newBounded(t, Config{MaxInFlight: 5, MaxInFlightPerClient: 3, UpstreamTimeout: 2 * time.Second}, silentUpstream(t))
	ask := func(src, name string) {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := query(name, dns.TypeA).Pack()
		c.Write(b)
		c.Close()
	}
	waitInFlight := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); srv.Stats().InFlight != n; {
			if time.Now().After(deadline) {
				t.Fatalf("%d queries in flight, want %d", srv.Stats().InFlight, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i := range 3 {
		ask("127.0.3.1", fmt.Sprintf("a%d.example.", i))
	}
	waitInFlight(3)
	start := time.Now()
	if got := render(t, exchangeFrom(t, "udp", "127.0.3.1", addr, query("b.example.", dns.TypeA))); got != "REFUSED id=4711 rd ra\nQ b.example. IN A" {
		t.Errorf("a 4th query of one client: got\n%s", got)
	}
	for i := range 2 {
		ask("127.0.3.2", fmt.Sprintf("c%d.example.", i))
	}
	waitInFlight(5)
	if got := render(t, exchangeFrom(t, "udp", "127.0.3.3", addr, query("d.example.", dns.TypeA))); got != "SERVFAIL id=4711 rd ra\nQ d.example. IN A" {
		t.Errorf("a 6th query in all: got\n%s", got)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the refusals took %v: they must not wait for the upstream", took)
	}
	if got := render(t, exchangeFrom(t, "udp", "127.0.3.3", addr, query("lvs.vrid.dsas.", dns.TypeTXT))); !strings.HasPrefix(got, "NOERROR id=4711 aa rd ra\n") {
		t.Errorf("a zone name with the forwarder full: got\n%s", got)
	}
	waitInFlight(0) // the upstream's timeout gives them back
	if got := render(t, exchangeFrom(t, "tcp", "127.0.3.1", addr, query("e.example.", dns.TypeA))); got != "SERVFAIL id=4711 rd ra\nQ e.example. IN A" {
		t.Errorf("after the timeouts: got\n%s, want the upstream's failure", got)
	}
	if st := srv.Stats(); st.Overloaded != 2 {
		t.Errorf("Stats.Overloaded = %d, want 2", st.Overloaded)
	}
}

// A client's queries that miss the cache are rate limited (REFUSED past
// the burst); cache hits and other clients are not.
func TestForwardRateLimit(t *testing.T) {
	up := startUpstream(t, records(t, "x 300 IN A 192.0.2.80"))
	srv, addr := newBounded(t, Config{RecursionRate: 0.001, RecursionBurst: 3}, up.addr)
	for i := range 3 {
		if m := exchangeFrom(t, "udp", "127.0.4.1", addr, query(fmt.Sprintf("n%d.example.", i), dns.TypeA)); m.Rcode != dns.RcodeSuccess {
			t.Errorf("query %d within the burst: %s", i, dns.RcodeToString[m.Rcode])
		}
	}
	if m := exchangeFrom(t, "udp", "127.0.4.1", addr, query("n3.example.", dns.TypeA)); m.Rcode != dns.RcodeRefused || !m.RecursionAvailable {
		t.Errorf("past the burst: %s RA=%t, want REFUSED with RA", dns.RcodeToString[m.Rcode], m.RecursionAvailable)
	}
	if m := exchangeFrom(t, "tcp", "127.0.4.1", addr, query("n0.example.", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Errorf("a cached name past the burst: %s", dns.RcodeToString[m.Rcode])
	}
	if m := exchangeFrom(t, "udp", "127.0.4.2", addr, query("n3.example.", dns.TypeA)); m.Rcode != dns.RcodeSuccess {
		t.Errorf("another client: %s", dns.RcodeToString[m.Rcode])
	}
	if st := srv.Stats(); st.RecursionLimited != 1 || up.queries("udp") != 4 {
		t.Errorf("RecursionLimited %d, upstream queries %d; want 1 and 4", st.RecursionLimited, up.queries("udp"))
	}
}

// Upstream queries share a few UDP sockets: 200 different names reach
// the upstream from at most poolSize source ports, and a reply is
// matched by ID and question (a reply to another question is dropped).
func TestForwardReusesSockets(t *testing.T) {
	var mu sync.Mutex
	ports := map[string]bool{}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() { // answers each query twice: first for another name, then right
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			ports[from.String()] = true
			mu.Unlock()
			req := new(dns.Msg)
			if req.Unpack(buf[:n]) != nil {
				continue
			}
			m := new(dns.Msg)
			m.SetReply(req)
			m.Answer = []dns.RR{mustRR(t, req.Question[0].Name+" 300 IN A 192.0.2.80")}
			wrong := m.Copy()
			wrong.Question[0].Name = "other.example."
			for _, r := range []*dns.Msg{wrong, m} {
				b, _ := r.Pack()
				pc.WriteTo(b, from)
			}
		}
	}()
	srv, addr := newBounded(t, Config{}, netip.MustParseAddrPort(pc.LocalAddr().String()))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				name := fmt.Sprintf("h%d-%d.example.", g, i)
				m := exchangeFrom(t, "udp", "127.0.0.1", addr, query(name, dns.TypeA))
				if len(m.Answer) != 1 || m.Answer[0].Header().Name != name {
					t.Errorf("%s: got %v", name, m.Answer)
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(ports) > poolSize {
		t.Errorf("200 upstream queries came from %d source ports, want at most %d", len(ports), poolSize)
	}
	if st := srv.Stats(); st.Forwarded != 200 {
		t.Errorf("Stats.Forwarded = %d, want 200", st.Forwarded)
	}
}

// The cache is bounded by bytes as well as answers: large answers evict
// others, and one larger than an eighth of the bytes is not kept.
func TestCacheBoundedBytes(t *testing.T) {
	c := newCache(1000, 64<<10, newClock().Now)
	txt := func(n int) *dns.Msg {
		var parts []string
		for range n {
			parts = append(parts, `"`+strings.Repeat("z", 250)+`"`)
		}
		return &dns.Msg{Answer: []dns.RR{mustRR(t, "a.example. 300 IN TXT "+strings.Join(parts, " "))}}
	}
	for i := range 100 {
		c.put(cacheKey{name: fmt.Sprintf("k%d.example.", i), qtype: dns.TypeTXT, qclass: dns.ClassINET}, txt(12)) // 3 kB each
		if n, size := c.len(); size > 64<<10 {
			t.Fatalf("after %d answers of 3 kB: %d kept, %d bytes, want at most 64 KiB", i+1, n, size)
		}
	}
	if n, _ := c.len(); n < 10 {
		t.Errorf("%d answers kept, want the cache used (about 20)", n)
	}
	big := cacheKey{name: "big.example.", qtype: dns.TypeTXT, qclass: dns.ClassINET}
	c.put(big, txt(40)) // 10 kB > 64 KiB / 8
	if _, ok := c.get(big); ok {
		t.Error("an answer of 10 kB was kept in a cache of 64 KiB")
	}
}

// tcpClient serves the test zone over TCP with cfg's bounds, and returns
// a dialer from a source address and a function that asks a query on a
// connection and reports whether it was answered.
func tcpClient(t *testing.T, cfg Config) (*Server, func(src string) net.Conn, func(net.Conn) bool) {
	cfg.Zone = Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Update(testSource(), 7); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	b, _ := query("lvs.vrid.dsas.", dns.TypeTXT).Pack()
	from := func(src string) net.Conn {
		c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ask := func(c net.Conn) bool {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(append([]byte{0, byte(len(b))}, b...)); err != nil {
			return false
		}
		buf := make([]byte, 2)
		_, err := readTCP(c, &buf)
		return err == nil
	}
	return srv, from, ask
}

// Past MaxTCP connections in all, a new one is closed at once, whoever
// it comes from; one closed makes room.
func TestTCPGlobalCap(t *testing.T) {
	srv, from, ask := tcpClient(t, Config{MaxTCP: 3})
	var conns []net.Conn
	for i := range 3 {
		c := from(fmt.Sprintf("127.0.6.%d", i+1))
		if !ask(c) {
			t.Fatalf("connection %d of 3 not served", i+1)
		}
		conns = append(conns, c)
	}
	if ask(from("127.0.6.4")) {
		t.Error("a 4th connection was served, MaxTCP is 3")
	}
	conns[0].Close()
	for deadline := time.Now().Add(5 * time.Second); srv.Stats().TCPConns > 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if !ask(from("127.0.6.4")) {
		t.Error("with a connection closed, a new one is not served")
	}
}

// TCP connections are bounded per client: past MaxTCPPerClient a new one
// from the same address is closed at once, another address is served,
// and an idle connection is closed after TCPIdleTimeout.
func TestTCPBounds(t *testing.T) {
	srv, from, ask := tcpClient(t, Config{MaxTCPPerClient: 2, TCPIdleTimeout: 300 * time.Millisecond})
	a1, a2 := from("127.0.5.1"), from("127.0.5.1")
	if !ask(a1) || !ask(a2) {
		t.Fatal("the first two connections of a client are not served")
	}
	if ask(from("127.0.5.1")) {
		t.Error("a third connection of one client was served, MaxTCPPerClient is 2")
	}
	if !ask(from("127.0.5.2")) {
		t.Error("another client's connection was not served")
	}
	time.Sleep(600 * time.Millisecond) // twice TCPIdleTimeout
	if ask(a1) {
		t.Error("a connection idle for twice TCPIdleTimeout is still served")
	}
	if !ask(from("127.0.5.1")) {
		t.Error("the client's idle connections were closed, a new one is not served")
	}
	if st := srv.Stats(); st.TCPRefused != 1 {
		t.Errorf("Stats.TCPRefused = %d, want 1", st.TCPRefused)
	}
}

// A TCP query longer than the connection's first buffer (2,000 bytes of
// EDNS0 padding, RFC 7830) is read whole and answered.
func TestTCPLongQuery(t *testing.T) {
	srv := newServer(t)
	if _, err := srv.Update(testSource(), 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	q := query("lvs.vrid.dsas.", dns.TypeTXT, withEDNS(1232))
	q.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_PADDING{Padding: make([]byte, 2000)}}
	if got := render(t, exchange(t, "tcp", addr, q)); !strings.HasPrefix(got, "NOERROR id=4711 aa rd\nQ lvs.vrid.dsas. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\"") {
		t.Errorf("got\n%s", got)
	}
}
