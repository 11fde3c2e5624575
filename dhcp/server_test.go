package dhcp

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/iana"

	"github.com/provision/provision/internal/testenv"
)

var loopNet = Subnet{
	Name: "loop", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Domain: "loop.example",
	PoolStart: ip("127.0.0.100"), PoolEnd: ip("127.0.0.200"),
}

// harness runs a Server on 127.0.0.1:0; relay plays a relay agent on
// 127.0.0.1:0, the port the server answers relayed requests to.
type harness struct {
	srv    *Server
	addr   net.Addr
	relay  net.PacketConn
	events *recorder
	clock  *clock
	logs   *testenv.Buffer
}

func startServer(t *testing.T, subnet Subnet, tweak func(*Config)) *harness {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	h := &harness{addr: conn.LocalAddr(), relay: relay, events: newRecorder(), clock: &clock{t: t0}, logs: &testenv.Buffer{}}
	cfg := Config{
		ServerIP: ip("127.0.0.1"), RelayPort: relay.LocalAddr().(*net.UDPAddr).Port,
		ClientPort: relay.LocalAddr().(*net.UDPAddr).Port, Now: h.clock.Now,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	hosts := newFakeHosts([]Subnet{subnet},
		Host{Name: "h1", MAC: macWeb, IP: ip("127.0.0.50"), Subnet: subnet},
		Host{Name: "h2", MAC: macOff, IP: ip("127.0.0.51"), Subnet: subnet},
		Host{Name: "h3", MAC: macPXL, IP: ip("127.0.0.52"), Subnet: subnet, Loader: LoaderPXELinux})
	log := slog.New(slog.NewTextHandler(h.logs, nil))
	h.srv, err = New(cfg, hosts, NewMemoryLeases(hosts.reserved, nil), h.events, log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, func(ctx context.Context) error { return h.srv.Serve(ctx, conn) })
	return h
}

// exchange sends req as the relay and returns the reply.
func (h *harness) exchange(t *testing.T, req *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
	t.Helper()
	h.send(t, req.ToBytes())
	return h.receive(t)
}

func (h *harness) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := h.relay.WriteTo(b, h.addr); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) receive(t *testing.T) *dhcpv4.DHCPv4 {
	t.Helper()
	buf := make([]byte, 1500)
	h.relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := h.relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	p, err := dhcpv4.FromBytes(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitEvents waits for n events.
func (h *harness) waitEvents(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-h.events.notify:
		case <-time.After(5 * time.Second):
			t.Fatal("event not delivered")
		}
	}
}

var viaLoop = dhcpv4.WithRelay(net.IPv4(127, 0, 0, 1))

func TestServerReservedExchange(t *testing.T) {
	h := startServer(t, loopNet, nil)
	offer := h.exchange(t, discoverPkt(t, macWeb, viaLoop, arch(iana.EFI_X86_64)))
	if offer.MessageType() != dhcpv4.MessageTypeOffer || offer.YourIPAddr.String() != "127.0.0.50" {
		t.Fatalf("got %s", offer)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer, viaLoop, arch(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	ack := h.exchange(t, req)
	if ack.MessageType() != dhcpv4.MessageTypeAck || ack.YourIPAddr.String() != "127.0.0.50" {
		t.Fatalf("got %s", ack)
	}
	h.waitEvents(t, 1)
	boots, found := h.events.snapshot()
	want := []BootEvent{{Time: t0, MAC: macWeb, IP: ip("127.0.0.50"), Host: "h1", BootFile: "ipxe.efi"}}
	if diff := cmp.Diff(want, boots, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" || len(found) != 0 {
		t.Errorf("boot events (-want +got):\n%s\ndiscoveries: %v", diff, found)
	}
}

func TestServerPoolClientIsDiscovered(t *testing.T) {
	h := startServer(t, loopNet, nil)
	offer := h.exchange(t, discoverPkt(t, macNew, viaLoop))
	if offer.YourIPAddr.String() != "127.0.0.100" {
		t.Fatalf("offer %s, want 127.0.0.100", offer)
	}
	req, err := dhcpv4.NewRequestFromOffer(offer, viaLoop,
		dhcpv4.WithOption(dhcpv4.OptHostName("newbox")), class("PXEClient:Arch:00007"), arch(iana.EFI_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	if ack := h.exchange(t, req); ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("got %s", ack)
	}
	h.waitEvents(t, 2)
	boots, found := h.events.snapshot()
	wantD := []Discovery{{Time: t0, MAC: macNew, IP: ip("127.0.0.100"), Subnet: "loop", Hostname: "newbox", VendorClass: "PXEClient:Arch:00007", Arch: 7}}
	eq := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	if diff := cmp.Diff(wantD, found, eq); diff != "" {
		t.Errorf("discoveries (-want +got):\n%s", diff)
	}
	if len(boots) != 1 || boots[0].Host != "" || boots[0].IP != ip("127.0.0.100") {
		t.Errorf("boot events %+v, want one for the pool address", boots)
	}
}

func TestServerSurvivesMalformedPackets(t *testing.T) {
	h := startServer(t, loopNet, func(c *Config) { c.Workers = 1 }) // in order: the reply comes last
	h.send(t, []byte("not dhcp at all"))
	good := discoverPkt(t, macWeb, viaLoop).ToBytes()
	h.send(t, good[:200])                      // truncated header
	h.send(t, append(good[:240:240], 53, 200)) // option longer than the packet
	if r := h.exchange(t, discoverPkt(t, macWeb, viaLoop)); r.MessageType() != dhcpv4.MessageTypeOffer {
		t.Fatalf("got %s", r)
	}
	if st := statsAfterReplies(h.srv, 1); st.Malformed != 3 || st.Replied != 1 {
		t.Errorf("stats %+v, want 3 malformed and 1 reply", st)
	}
}

func TestServerRateLimitsPerMAC(t *testing.T) {
	h := startServer(t, loopNet, func(c *Config) { c.RateBurst, c.RateLimit, c.Workers = 2, 0.001, 1 })
	for range 5 {
		h.send(t, discoverPkt(t, macWeb, viaLoop).ToBytes())
	}
	h.send(t, discoverPkt(t, macOff, viaLoop).ToBytes()) // one worker: answered last
	replies := map[string]int{}
	for {
		r := h.receive(t)
		replies[r.ClientHWAddr.String()]++
		if r.ClientHWAddr.String() == macOff.String() {
			break
		}
	}
	if replies[macWeb.String()] != 2 {
		t.Errorf("replies %v, want 2 for the flooding MAC", replies)
	}
	if st := h.srv.Stats(); st.RateLimited != 3 {
		t.Errorf("stats %+v, want 3 rate limited", st)
	}
}

func TestServerLogsUnknownMACOncePerMinute(t *testing.T) {
	h := startServer(t, loopNet.withoutPool(), func(c *Config) { c.Workers = 1 })
	round := func() {
		for range 3 {
			h.send(t, discoverPkt(t, macNew, viaLoop).ToBytes())
		}
		h.exchange(t, discoverPkt(t, macWeb, viaLoop)) // barrier: one worker, in order
	}
	round()
	if n := strings.Count(h.logs.String(), "unknown mac"); n != 1 {
		t.Errorf("%d log lines after 3 packets, want 1:\n%s", n, h.logs.String())
	}
	h.clock.advance(61 * time.Second)
	round()
	if n := strings.Count(h.logs.String(), "unknown mac"); n != 2 {
		t.Errorf("%d log lines a minute later, want 2", n)
	}
	if st := h.srv.Stats(); st.Ignored != 6 {
		t.Errorf("stats %+v, want 6 ignored", st)
	}
}

// A pxelinux host booting by UEFI HTTP gets its address without a boot
// file, and the log says why, once a minute.
func TestServerLogsARefusedBootFile(t *testing.T) {
	h := startServer(t, loopNet, func(c *Config) { c.Workers = 1 })
	httpBoot := func() *dhcpv4.DHCPv4 {
		return discoverPkt(t, macPXL, viaLoop, arch(iana.EFI_X86_64_HTTP), class("HTTPClient:Arch:00016:UNDI:003001"))
	}
	for range 2 {
		offer := h.exchange(t, httpBoot())
		if offer.YourIPAddr.String() != "127.0.0.52" || offer.BootFileName != "" || offer.BootFileNameOption() != "" {
			t.Fatalf("got %s, want 127.0.0.52 without a boot file", offer.Summary())
		}
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "loader pxelinux has no UEFI HTTP boot"); n != 1 || !strings.Contains(logs, "level=WARN") {
		t.Errorf("%d warnings after 2 refusals, want 1:\n%s", n, logs)
	}
	if st := statsAfterReplies(h.srv, 2); st.Replied != 2 {
		t.Errorf("stats %+v, want 2 replied", st)
	}
}

func TestEventsNeverBlock(t *testing.T) {
	s, err := New(Config{ServerIP: ip("127.0.0.1")}, newFakeHosts(nil), nil, newRecorder(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range eventBuffer + 10 { // nobody is pumping
		s.emit(BootEvent{})
	}
	if got := s.Stats().EventsLost; got != 10 {
		t.Errorf("EventsLost = %d, want 10", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	hosts := newFakeHosts(nil)
	for _, cfg := range []Config{{}, {ServerIP: ip("::1")}, {ServerIP: ip("10.0.0.1"), RateLimit: -1}} {
		if _, err := New(cfg, hosts, nil, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := New(Config{ServerIP: ip("10.0.0.1")}, nil, nil, nil, nil); err == nil {
		t.Error("New without Hosts accepted")
	}
}

// In proxyDHCP mode a registered MAC's DHCPREQUEST for the other server's
// address is not answered but reported (a Sighting: the address the
// machine will speak from); an unknown MAC's is not.
func TestProxyReportsTheAddressTheOtherServerGives(t *testing.T) {
	h := startServer(t, loopNet, func(c *Config) { c.Proxy = true })
	other := serverID("127.0.0.9")
	h.send(t, packet(t, dhcpv4.MessageTypeRequest, macNew, requested("127.0.0.77"), other, viaLoop).ToBytes())
	h.send(t, packet(t, dhcpv4.MessageTypeRequest, macWeb, requested("127.0.0.78"), other, viaLoop).ToBytes())
	h.waitEvents(t, 1)
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	want := []Sighting{{Time: t0, MAC: macWeb, IP: ip("127.0.0.78")}}
	if diff := cmp.Diff(want, h.events.sightings, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("sightings (-want +got):\n%s", diff)
	}
}

// statsAfterReplies returns the server's counters once it has counted n
// replies, or after 5 s. A reply is counted after it is sent, so the
// client can see it before the counter moves.
func statsAfterReplies(s *Server, n uint64) Stats {
	st := s.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Replied < n && time.Now().Before(deadline); st = s.Stats() {
		time.Sleep(time.Millisecond)
	}
	return st
}
