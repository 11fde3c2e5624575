package dnsconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/provision/provision/registry"

	"github.com/provision/provision/internal/testenv"
)

// listenPair listens on UDP 127.0.0.1:0, then on TCP on the same port,
// trying again with another port when TCP's is taken.
func listenPair(t testing.TB) (*net.UDPConn, net.Listener, string) {
	t.Helper()
	for range 50 {
		pc, err := ListenUDP("127.0.0.1:0") // a socket per CPU: the appliance's way
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return pc, ln, addr
		}
		pc.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
	}
	t.Fatal("no port free for both UDP and TCP")
	return nil, nil, ""
}

// startServer serves srv on a fresh port until the test ends, and
// rebuilds its zone on Changed (Run), and checks that both then return nil.
func startServer(t testing.TB, srv *Server) string {
	t.Helper()
	pc, ln, addr := listenPair(t)
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, pc, ln) })
	testenv.Serve(t, srv.Run)
	return addr
}

func newServer(t testing.TB) *Server {
	t.Helper()
	srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP, Static: testStatic(t)}})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func exchange(t *testing.T, network, addr string, req *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	m, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s exchange: %v", network, err)
	}
	return m
}

func TestServeUDPAndTCP(t *testing.T) {
	srv := newServer(t)
	if _, err := srv.Update(testSource(), 3); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	for _, network := range []string{"udp", "tcp"} {
		m := exchange(t, network, addr, query("Lvs.Vrid.Dsas.", dns.TypeTXT))
		if got, want := render(t, m), "NOERROR id=4711 aa rd\nQ Lvs.Vrid.Dsas. IN TXT\nAN lvs.vrid.dsas. 60 IN TXT \"100\""; got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", network, got, want)
		}
	}
	// 1000 bytes: UDP without EDNS0 truncates, TCP gets it all.
	m := exchange(t, "udp", addr, query("big.dsas.", dns.TypeTXT))
	if !m.Truncated || len(m.Answer) != 0 {
		t.Errorf("UDP: TC=%t with %d answers, want TC and none", m.Truncated, len(m.Answer))
	}
	m = exchange(t, "tcp", addr, query("big.dsas.", dns.TypeTXT))
	if m.Truncated || len(m.Answer) != 1 || JoinTXT(m.Answer[0].(*dns.TXT).Txt) != strings.Repeat("x", 1000) {
		t.Errorf("TCP: TC=%t, answer %v", m.Truncated, m.Answer)
	}
	exchange(t, "udp", addr, query("nosuch.dsas.", dns.TypeA))
	exchange(t, "udp", addr, query("example.com.", dns.TypeA))
	st := srv.Stats()
	st.TCPConns = 0 // the server may not have seen the client close yet
	want := Stats{Queries: 6, Truncated: 1, Serial: 3, Swaps: 1,
		Rcodes: map[string]uint64{"NOERROR": 4, "NXDOMAIN": 1, "REFUSED": 1}}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("Stats = %+v, want %+v", st, want)
	}
}

func TestServeWithoutZone(t *testing.T) {
	addr := startServer(t, newServer(t))
	if m := exchange(t, "udp", addr, query("lvs.vrid.dsas.", dns.TypeTXT)); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s before the first zone, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
}

// TestServeMalformed: a message whose question does not parse gets
// FORMERR from the socket loop and is counted.
func TestServeMalformed(t *testing.T) {
	srv := newServer(t)
	addr := startServer(t, srv)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// id 0x1234, RD, QDCOUNT 1, then a label of 5 bytes cut after 2.
	if _, err := c.Write([]byte{0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a', 'b'}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	var m dns.Msg
	if err := m.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if m.Id != 0x1234 || m.Rcode != dns.RcodeFormatError {
		t.Errorf("reply id %#x rcode %s, want 0x1234 FORMERR", m.Id, dns.RcodeToString[m.Rcode])
	}
	if st := srv.Stats(); st.Malformed != 1 {
		t.Errorf("Stats.Malformed = %d, want 1", st.Malformed)
	}
}

// TestServeStops: Serve returns nil on cancel and closes its sockets.
func TestServeStops(t *testing.T) {
	pc, ln, _ := listenPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newServer(t).Serve(ctx, pc, ln) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("TCP listener still open")
	}
}

func TestServeNeedsASocket(t *testing.T) {
	if err := newServer(t).Serve(context.Background(), nil, nil); err == nil {
		t.Error("Serve(nil, nil) did not fail")
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Zone: Options{NS: applianceIP}},
		{Zone: Options{Origin: "dsas"}},
		{Zone: Options{Origin: "dsas", NS: applianceIP}, MaxUDP: 100},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrOptions) {
			t.Errorf("New(%+v) error = %v, want ErrOptions", cfg, err)
		}
	}
}

// TestChanged: a registry change announced from OnChange is served once
// the zone is rebuilt in the background, without a restart.
func TestChanged(t *testing.T) {
	reg := openRegistry(t)
	srv := newServer(t)
	reg.OnChange(func(snap *registry.Snapshot) { srv.Changed(snap, snap.Serial) })
	snap := reg.Snapshot()
	if _, err := srv.Update(snap, snap.Serial); err != nil {
		t.Fatal(err)
	}
	addr := startServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 5 { // a burst: only the latest must be served in the end
		if _, err := reg.SetSetting(ctx, "lvs.vrid", fmt.Sprint(200+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.WaitSerial(ctx, reg.Snapshot().Serial); err != nil {
		t.Fatal(err)
	}
	m := exchange(t, "udp", addr, query("lvs.vrid.dsas.", dns.TypeTXT))
	if len(m.Answer) != 1 || JoinTXT(m.Answer[0].(*dns.TXT).Txt) != "204" {
		t.Errorf("after the change: %v", m.Answer)
	}
}

func TestWaitSerialCancelled(t *testing.T) {
	srv := newServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.WaitSerial(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitSerial = %v, want context.Canceled", err)
	}
}

// UDP queries from an untrusted client are rate limited; a trusted one's
// and TCP are not.
func TestRateLimitUntrusted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted bool
		network string
		min     int
		max     int
	}{
		{"untrusted udp", false, "udp", 5, 5},
		{"trusted udp", true, "udp", 30, 30},
		{"untrusted tcp", false, "tcp", 30, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(Config{Zone: Options{Origin: "dsas", NS: applianceIP}, RateLimit: 0.01, RateBurst: 5,
				Trusted: func(netip.Addr) bool { return tc.trusted }})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Update(testSource(), 1); err != nil {
				t.Fatal(err)
			}
			addr := startServer(t, srv)
			c := &dns.Client{Net: tc.network, Timeout: 100 * time.Millisecond}
			answered := 0
			for range 30 {
				if m, _, err := c.Exchange(query("dsas.", dns.TypeSOA), addr); err == nil && m != nil {
					answered++
				}
			}
			if answered < tc.min || answered > tc.max {
				t.Errorf("%d of 30 queries answered, want %d to %d", answered, tc.min, tc.max)
			}
			if tc.name == "untrusted udp" && srv.Stats().Limited == 0 {
				t.Error("no query counted as limited")
			}
		})
	}
}
