package dnsconf

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// upstream is a resolver for the tests on 127.0.0.1, UDP and TCP: it
// answers with what handle returns (nothing when nil), truncates UDP
// answers larger than the query's buffer, and counts the queries.
type upstream struct {
	addr netip.AddrPort
	mu   sync.Mutex
	got  map[string]int // queries by network
	last *dns.Msg
}

func startUpstream(t *testing.T, handle func(req *dns.Msg) *dns.Msg) *upstream {
	t.Helper()
	pc, ln, addr := listenPair(t)
	u := &upstream{addr: netip.MustParseAddrPort(addr), got: map[string]int{}}
	h := func(network string) dns.Handler {
		return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			u.mu.Lock()
			u.got[network]++
			u.last = req
			u.mu.Unlock()
			m := handle(req)
			if m == nil {
				return
			}
			rcode := m.Rcode
			m.SetReply(req)
			m.Rcode = rcode
			m.RecursionAvailable = true
			if o := req.IsEdns0(); o != nil {
				m.SetEdns0(o.UDPSize(), o.Do())
			}
			if network == "udp" {
				m.Truncate(udpLimit(req, dns.MaxMsgSize))
			}
			w.WriteMsg(m)
		})
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h("udp")}, {Listener: ln, Handler: h("tcp")}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return u
}

// queries returns how many queries the upstream got over network.
func (u *upstream) queries(network string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got[network]
}

// lastQuery returns the latest query the upstream got.
func (u *upstream) lastQuery() *dns.Msg {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// records answers every question with the records rrs (zone-file lines
// whose owner is replaced by the question's name).
func records(t *testing.T, rrs ...string) func(*dns.Msg) *dns.Msg {
	return func(req *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		for _, s := range rrs {
			rr := mustRR(t, s)
			rr.Header().Name = req.Question[0].Name
			m.Answer = append(m.Answer, rr)
		}
		return m
	}
}

// newForwarding serves the test zone, forwarding to upstreams (300 ms a
// try) for the clients recursion allows, until the test ends. The cache
// reads the time from clk.
func newForwarding(t *testing.T, clk *clock, recursion func(netip.Addr) bool, upstreams ...netip.AddrPort) (*Server, string) {
	t.Helper()
	srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)},
		Forward: upstreams, Recursion: recursion, UpstreamTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.fwd.cache.now = clk.Now
	if _, err := srv.Update(testSource(), 7); err != nil {
		t.Fatal(err)
	}
	return srv, startServer(t, srv)
}

// localhostOnly lets 127.0.0.1 recurse, and no one else.
func localhostOnly(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") }

// exchangeFrom sends req to addr from the address src (of 127/8).
func exchangeFrom(t *testing.T, network, src, addr string, req *dns.Msg) *dns.Msg {
	t.Helper()
	var local net.Addr = &net.UDPAddr{IP: net.ParseIP(src)}
	if network == "tcp" {
		local = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c := &dns.Client{Net: network, Timeout: 10 * time.Second, Dialer: &net.Dialer{LocalAddr: local}}
	m, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s exchange from %s: %v", network, src, err)
	}
	return m
}

// Names outside the zone are forwarded for the clients that may recurse,
// over UDP and TCP; others get REFUSED without RA as before, and the
// zone's own names are answered authoritatively, never forwarded.
func TestForwardPolicy(t *testing.T) {
	up := startUpstream(t, records(t, "x 300 IN A 192.0.2.80"))
	srv, addr := newForwarding(t, newClock(), localhostOnly, up.addr)
	for _, network := range []string{"udp", "tcp"} {
		m := exchangeFrom(t, network, "127.0.0.1", addr, query("Mirror.Example.", dns.TypeA))
		if got, want := render(t, m), "NOERROR id=4711 rd ra\nQ Mirror.Example. IN A\nAN mirror.example. 300 IN A 192.0.2.80"; got != want {
			t.Errorf("%s from 127.0.0.1: got\n%s\nwant\n%s", network, got, want)
		}
		if m := exchangeFrom(t, network, "127.0.0.5", addr, query("other.example.", dns.TypeA)); render(t, m) != "REFUSED id=4711 rd\nQ other.example. IN A" {
			t.Errorf("%s from 127.0.0.5: got\n%s", network, render(t, m))
		}
	}
	if got := up.queries("udp") + up.queries("tcp"); got != 1 {
		t.Errorf("upstream got %d queries, want 1 (the second from the cache, none for 127.0.0.5)", got)
	}
	if q := up.lastQuery(); q == nil || !q.RecursionDesired || q.Question[0].Name != "mirror.example." {
		t.Errorf("upstream got %v, want mirror.example. with RD", q)
	}
	for _, tc := range []struct {
		req  *dns.Msg
		want string
	}{
		{query("mail.dsas.", dns.TypeA), "NOERROR id=4711 aa rd ra\nQ mail.dsas. IN A\nAN mail.dsas. 300 IN A 10.0.0.50"},
		{query("nosuch.dsas.", dns.TypeA), "NXDOMAIN id=4711 aa rd ra\nQ nosuch.dsas. IN A\nNS " + soa},
		{query("11.0.0.10.in-addr.arpa.", dns.TypePTR), "NOERROR id=4711 aa rd ra\nQ 11.0.0.10.in-addr.arpa. IN PTR\nAN 11.0.0.10.in-addr.arpa. 60 IN PTR web001.dsas."},
		{query("dsas.", dns.TypeAXFR), "REFUSED id=4711 rd ra\nQ dsas. IN AXFR"},
		{query("example.com.", dns.TypeAXFR), "REFUSED id=4711 rd ra\nQ example.com. IN AXFR"},
		{func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(),
			"REFUSED id=4711 rd ra\nQ version.bind. CH TXT"},
	} {
		if got := render(t, exchangeFrom(t, "udp", "127.0.0.1", addr, tc.req)); got != tc.want {
			t.Errorf("got\n%s\nwant\n%s", got, tc.want)
		}
	}
	// Outside the reverse zones of the subnets, a PTR is forwarded too.
	exchangeFrom(t, "udp", "127.0.0.1", addr, query("1.1.168.192.in-addr.arpa.", dns.TypePTR))
	if got := up.queries("udp") + up.queries("tcp"); got != 2 {
		t.Errorf("upstream got %d queries, want 2: only mirror.example and 1.1.168.192.in-addr.arpa", got)
	}
	st := srv.Stats()
	if st.Forwarded != 2 || st.CacheHits != 1 || st.UpstreamFailures != 0 || st.Cached != 2 {
		t.Errorf("Stats = %+v, want 2 forwarded, 1 cache hit, no failure, 2 cached", st)
	}
}

// Without upstreams, or without Recursion, nothing is forwarded and
// nobody gets RA.
func TestForwardOff(t *testing.T) {
	up := startUpstream(t, records(t, "x 300 IN A 192.0.2.80"))
	for name, cfg := range map[string]Config{
		"no upstream":  {Recursion: func(netip.Addr) bool { return true }},
		"no recursion": {Forward: []netip.AddrPort{up.addr}},
	} {
		cfg.Zone = Options{Origin: "dsas", NS: applianceIP}
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Update(testSource(), 7); err != nil {
			t.Fatal(err)
		}
		addr := startServer(t, srv)
		if got, want := render(t, exchange(t, "udp", addr, query("mirror.example.", dns.TypeA))), "REFUSED id=4711 rd\nQ mirror.example. IN A"; got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
		}
		if got := render(t, exchange(t, "udp", addr, query("dsas.", dns.TypeNS))); !strings.HasPrefix(got, "NOERROR id=4711 aa rd\n") {
			t.Errorf("%s: got\n%s", name, got)
		}
	}
	if n := up.queries("udp"); n != 0 {
		t.Errorf("upstream got %d queries", n)
	}
}

func TestNewChecksForward(t *testing.T) {
	for _, up := range []netip.AddrPort{{}, netip.MustParseAddrPort("192.0.2.1:0"), netip.MustParseAddrPort("0.0.0.0:53")} {
		_, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP}, Forward: []netip.AddrPort{up}})
		if !errors.Is(err, ErrOptions) {
			t.Errorf("upstream %v: error %v, want ErrOptions", up, err)
		}
	}
}

// clock is a settable time for the cache.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1e9, 0)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TTLs served from the cache go down with its age; an answer expires
// with its smallest TTL, the DO bit is part of the key, and SERVFAIL,
// TTL 0 and negative answers without an SOA are not kept.
func TestForwardCache(t *testing.T) {
	answers := map[string]func(*dns.Msg) *dns.Msg{
		"mirror.example.": records(t, "x 300 IN A 192.0.2.80", "x 3600 IN A 192.0.2.81"),
		"nx.example.": func(*dns.Msg) *dns.Msg {
			m := new(dns.Msg)
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{mustRR(t, "example. 3600 IN SOA ns.example. h.example. 1 3600 600 604800 900")}
			return m
		},
		"nodata.example.": func(*dns.Msg) *dns.Msg {
			return &dns.Msg{Ns: []dns.RR{mustRR(t, "example. 30 IN SOA ns.example. h.example. 1 3600 600 604800 60")}}
		},
		"nosoa.example.": func(*dns.Msg) *dns.Msg { return &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: dns.RcodeNameError}} },
		"zero.example.":  records(t, "x 0 IN A 192.0.2.82"),
	}
	up := startUpstream(t, func(req *dns.Msg) *dns.Msg {
		if f := answers[req.Question[0].Name]; f != nil {
			return f(req)
		}
		return &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: dns.RcodeServerFailure}}
	})
	clk := newClock()
	_, addr := newForwarding(t, clk, localhostOnly, up.addr)
	ask := func(name string, opts ...func(*dns.Msg)) string {
		t.Helper()
		return render(t, exchange(t, "udp", addr, query(name, dns.TypeA, opts...)))
	}
	upstreamQueries := func() int { return up.queries("udp") }

	want := "NOERROR id=4711 rd ra\nQ mirror.example. IN A\nAN mirror.example. 300 IN A 192.0.2.80\nAN mirror.example. 300 IN A 192.0.2.81"
	if got := ask("mirror.example."); got != want {
		t.Errorf("first answer: got\n%s\nwant\n%s (TTLs at most the time kept)", got, want)
	}
	clk.advance(100*time.Second + 500*time.Millisecond)
	want = "NOERROR id=4711 rd ra\nQ MIRROR.example. IN A\nAN mirror.example. 200 IN A 192.0.2.80\nAN mirror.example. 200 IN A 192.0.2.81"
	if got := ask("MIRROR.example."); got != want {
		t.Errorf("after 100.5 s: got\n%s\nwant\n%s", got, want)
	}
	if n := upstreamQueries(); n != 1 {
		t.Errorf("upstream got %d queries, want 1", n)
	}
	if got := ask("mirror.example.", withEDNS(1232), func(m *dns.Msg) { m.IsEdns0().SetDo() }); !strings.Contains(got, "AN mirror.example. 300 IN A") {
		t.Errorf("with DO: got\n%s", got)
	}
	if n := upstreamQueries(); n != 2 {
		t.Errorf("upstream got %d queries, want 2: DO is part of the key", n)
	}
	clk.advance(199 * time.Second)
	if got := ask("mirror.example."); !strings.Contains(got, "AN mirror.example. 1 IN A") || upstreamQueries() != 2 {
		t.Errorf("after 299.5 s: got\n%s\nfrom the cache: %t", got, upstreamQueries() == 2)
	}
	clk.advance(time.Second)
	if got := ask("mirror.example."); !strings.Contains(got, "AN mirror.example. 300 IN A") || upstreamQueries() != 3 {
		t.Errorf("after 300.5 s: got\n%s\nasked again upstream: %t", got, upstreamQueries() == 3)
	}

	// NXDOMAIN: the SOA's MINIMUM (900) capped at 300 s; NODATA: its TTL (30).
	for _, tc := range []struct {
		name       string
		keep       time.Duration
		fresh, old string
	}{
		{"nx.example.", 300 * time.Second, "NXDOMAIN id=4711 rd ra\nQ nx.example. IN A\nNS example. 300 IN SOA ns.example. h.example. 1 3600 600 604800 900",
			"NXDOMAIN id=4711 rd ra\nQ nx.example. IN A\nNS example. 1 IN SOA ns.example. h.example. 1 3600 600 604800 900"},
		{"nodata.example.", 30 * time.Second, "NOERROR id=4711 rd ra\nQ nodata.example. IN A\nNS example. 30 IN SOA ns.example. h.example. 1 3600 600 604800 60",
			"NOERROR id=4711 rd ra\nQ nodata.example. IN A\nNS example. 1 IN SOA ns.example. h.example. 1 3600 600 604800 60"},
	} {
		before := upstreamQueries()
		if got := ask(tc.name); got != tc.fresh {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.fresh)
		}
		clk.advance(tc.keep - time.Second)
		if got := ask(tc.name); got != tc.old || upstreamQueries() != before+1 {
			t.Errorf("%s a second before it expires: got\n%s\nwant\n%s\nupstream asked %d times", tc.name, got, tc.old, upstreamQueries()-before)
		}
		clk.advance(time.Second)
		if ask(tc.name); upstreamQueries() != before+2 {
			t.Errorf("%s: not asked again upstream once expired", tc.name)
		}
	}
	for _, name := range []string{"servfail.example.", "zero.example.", "nosoa.example."} {
		before := upstreamQueries()
		first := ask(name)
		if second := ask(name); second != first || upstreamQueries() != before+2 {
			t.Errorf("%s: cached (upstream asked %d times for 2 queries):\n%s", name, upstreamQueries()-before, first)
		}
	}
	if got := ask("servfail.example."); !strings.HasPrefix(got, "SERVFAIL id=4711 rd ra\n") {
		t.Errorf("all upstreams failing: got\n%s", got)
	}
}

func TestCacheTTL(t *testing.T) {
	msg := func(rcode int, answer, ns []string) *dns.Msg {
		m := &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: rcode}}
		for _, s := range answer {
			m.Answer = append(m.Answer, mustRR(t, s))
		}
		for _, s := range ns {
			m.Ns = append(m.Ns, mustRR(t, s))
		}
		return m
	}
	soa := func(ttl, minimum string) string {
		return "example. " + ttl + " IN SOA ns.example. h.example. 1 3600 600 604800 " + minimum
	}
	truncated := msg(dns.RcodeSuccess, []string{"a.example. 60 IN A 192.0.2.1"}, nil)
	truncated.Truncated = true
	for _, tc := range []struct {
		name string
		m    *dns.Msg
		ttl  uint32 // 0: not cached
	}{
		{"smallest answer TTL", msg(dns.RcodeSuccess, []string{"a.example. 600 IN CNAME b.example.", "b.example. 60 IN A 192.0.2.1"}, nil), 60},
		{"answers capped at an hour", msg(dns.RcodeSuccess, []string{"a.example. 86400 IN A 192.0.2.1"}, nil), 3600},
		{"NXDOMAIN: SOA MINIMUM", msg(dns.RcodeNameError, nil, []string{soa("3600", "60")}), 60},
		{"NXDOMAIN: SOA TTL", msg(dns.RcodeNameError, nil, []string{soa("10", "60")}), 10},
		{"NXDOMAIN capped at 5 min", msg(dns.RcodeNameError, nil, []string{soa("3600", "86400")}), 300},
		{"NXDOMAIN after a CNAME", msg(dns.RcodeNameError, []string{"a.example. 20 IN CNAME b.example."}, []string{soa("3600", "60")}), 20},
		{"NODATA", msg(dns.RcodeSuccess, nil, []string{soa("3600", "120")}), 120},
		{"NODATA without SOA", msg(dns.RcodeSuccess, nil, []string{"example. 3600 IN NS ns.example."}), 0},
		{"NXDOMAIN without SOA", msg(dns.RcodeNameError, nil, nil), 0},
		{"SERVFAIL", msg(dns.RcodeServerFailure, nil, []string{soa("3600", "60")}), 0},
		{"REFUSED", msg(dns.RcodeRefused, nil, nil), 0},
		{"TTL 0", msg(dns.RcodeSuccess, []string{"a.example. 0 IN A 192.0.2.1"}, nil), 0},
		{"truncated", truncated, 0},
	} {
		ttl, ok := cacheTTL(tc.m)
		if ok != (tc.ttl > 0) || ok && ttl != tc.ttl {
			t.Errorf("%s: cacheTTL = %d, %t; want %d", tc.name, ttl, ok, tc.ttl)
		}
	}
}

// The cache holds at most its size; expired answers go first.
func TestCacheBounded(t *testing.T) {
	clk := newClock()
	c := newCache(3, 0, clk.Now)
	a := func(ttl string) *dns.Msg {
		return &dns.Msg{Answer: []dns.RR{mustRR(t, "a.example. "+ttl+" IN A 192.0.2.1")}}
	}
	key := func(i int) cacheKey {
		return cacheKey{name: string(rune('a'+i)) + ".example.", qtype: dns.TypeA, qclass: dns.ClassINET}
	}
	for i := range 10 {
		c.put(key(i), a("60"))
		if n, _ := c.len(); n > 3 {
			t.Fatalf("%d entries after %d puts, want at most 3", n, i+1)
		}
		if _, ok := c.get(key(i)); !ok {
			t.Fatalf("entry %d not kept", i)
		}
	}
	clk.advance(time.Minute)
	c.put(key(10), a("60"))
	if n, _ := c.len(); n != 1 {
		t.Errorf("%d entries, want 1: the expired ones go first", n)
	}
	if _, ok := newCache(-1, 0, clk.Now).get(key(0)); ok {
		t.Error("a cache of size -1 keeps answers")
	}
}

// A reply too large for the client's UDP buffer is sent empty with TC;
// over TCP the client gets all of it, asked again over TCP when the
// upstream truncated its UDP answer.
func TestForwardTruncation(t *testing.T) {
	txt := func(n int) string {
		var parts []string
		for range n {
			parts = append(parts, `"`+strings.Repeat("z", 250)+`"`)
		}
		return "x 300 IN TXT " + strings.Join(parts, " ")
	}
	answers := map[string]func(*dns.Msg) *dns.Msg{
		"medium.example.": records(t, txt(3)),  // about 800 bytes: fits 1232, not 512
		"large.example.":  records(t, txt(12)), // about 3 kB: more than any UDP buffer
	}
	up := startUpstream(t, func(req *dns.Msg) *dns.Msg { return answers[req.Question[0].Name](req) })
	srv, addr := newForwarding(t, newClock(), localhostOnly, up.addr)

	m := exchange(t, "udp", addr, query("medium.example.", dns.TypeTXT))
	if !m.Truncated || len(m.Answer) != 0 || !m.RecursionAvailable {
		t.Errorf("medium over UDP without EDNS0: TC=%t RA=%t with %d answers, want TC, RA and none", m.Truncated, m.RecursionAvailable, len(m.Answer))
	}
	if m := exchange(t, "udp", addr, query("medium.example.", dns.TypeTXT, withEDNS(1232))); m.Truncated || len(m.Answer) != 1 {
		t.Errorf("medium over UDP with EDNS0 1232: TC=%t with %d answers", m.Truncated, len(m.Answer))
	}
	if m := exchange(t, "tcp", addr, query("medium.example.", dns.TypeTXT)); m.Truncated || len(m.Answer) != 1 {
		t.Errorf("medium over TCP: TC=%t with %d answers", m.Truncated, len(m.Answer))
	}
	if u, c := up.queries("udp"), up.queries("tcp"); u != 1 || c != 0 {
		t.Errorf("medium: upstream got %d UDP and %d TCP queries, want 1 and 0 (then the cache)", u, c)
	}

	m = exchange(t, "udp", addr, query("large.example.", dns.TypeTXT, withEDNS(1232)))
	if !m.Truncated || len(m.Answer) != 0 {
		t.Errorf("large over UDP: TC=%t with %d answers, want TC and none", m.Truncated, len(m.Answer))
	}
	m = exchange(t, "tcp", addr, query("large.example.", dns.TypeTXT, withEDNS(1232)))
	if m.Truncated || len(m.Answer) != 1 || len(m.Answer[0].(*dns.TXT).Txt) != 12 {
		t.Errorf("large over TCP: TC=%t, answer %d records", m.Truncated, len(m.Answer))
	}
	if u, c := up.queries("udp"), up.queries("tcp"); u != 3 || c != 1 {
		t.Errorf("large: upstream got %d UDP and %d TCP queries in all, want 3 and 1", u, c)
	}
	if m := exchange(t, "udp", addr, query("large.example.", dns.TypeTXT, withEDNS(1232))); !m.Truncated || up.queries("udp") != 3 {
		t.Errorf("large over UDP, cached: TC=%t, upstream asked again: %t", m.Truncated, up.queries("udp") != 3)
	}
	if st := srv.Stats(); st.Truncated != 3 {
		t.Errorf("Stats.Truncated = %d, want 3", st.Truncated)
	}
}

// silentUpstream is a UDP socket that reads nothing and answers nothing.
func silentUpstream(t *testing.T) netip.AddrPort {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// The next upstream is tried after a timeout, SERVFAIL or REFUSED; all of
// them are given twice the timeout of one; then the answer is SERVFAIL.
func TestForwardFailover(t *testing.T) {
	good := startUpstream(t, records(t, "x 300 IN A 192.0.2.80"))
	servfail := startUpstream(t, func(*dns.Msg) *dns.Msg { return &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: dns.RcodeServerFailure}} })
	refused := startUpstream(t, func(*dns.Msg) *dns.Msg { return &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: dns.RcodeRefused}} })
	silent := silentUpstream(t)

	for _, tc := range []struct {
		name      string
		upstreams []netip.AddrPort
		rcode     int
		failures  uint64
		min, max  time.Duration
	}{
		{"timeout, SERVFAIL, REFUSED, answer", []netip.AddrPort{silent, servfail.addr, refused.addr, good.addr}, dns.RcodeSuccess, 3, 300 * time.Millisecond, time.Second},
		{"no answer", []netip.AddrPort{silent}, dns.RcodeServerFailure, 1, 300 * time.Millisecond, time.Second},
		{"no answer in twice the timeout", []netip.AddrPort{silent, silent, good.addr}, dns.RcodeServerFailure, 2, 600 * time.Millisecond, 1300 * time.Millisecond},
		{"SERVFAIL", []netip.AddrPort{servfail.addr}, dns.RcodeServerFailure, 1, 0, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, addr := newForwarding(t, newClock(), localhostOnly, tc.upstreams...)
			start := time.Now()
			m := exchange(t, "udp", addr, query("mirror.example.", dns.TypeA))
			took := time.Since(start)
			if m.Rcode != tc.rcode || !m.RecursionAvailable {
				t.Errorf("rcode %s RA=%t, want %s and RA", dns.RcodeToString[m.Rcode], m.RecursionAvailable, dns.RcodeToString[tc.rcode])
			}
			if took < tc.min || took > tc.max {
				t.Errorf("answered in %v, want %v to %v", took, tc.min, tc.max)
			}
			if st := srv.Stats(); st.UpstreamFailures != tc.failures || st.Forwarded != 1 {
				t.Errorf("Stats = %+v, want %d upstream failures, 1 forwarded", st, tc.failures)
			}
		})
	}
}

// Serve's end stops a query waiting for an upstream.
func TestForwardStopsWithServe(t *testing.T) {
	srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP}, Forward: []netip.AddrPort{silentUpstream(t)},
		Recursion: func(netip.Addr) bool { return true }, UpstreamTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Update(testSource(), 7); err != nil {
		t.Fatal(err)
	}
	pc, ln, addr := listenPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, pc, ln) }()
	go func() {
		c := &dns.Client{Net: "tcp", Timeout: time.Minute}
		c.Exchange(query("mirror.example.", dns.TypeA), addr)
	}()
	for srv.Stats().Forwarded == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("Serve returned %v after cancel", took)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("Serve did not return")
	}
}
