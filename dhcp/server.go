package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/internal/ratelimit"
)

// Bounds on the server's memory.
const (
	maxTracked  = 1 << 16 // MACs tracked by the rate limiter and the log throttle
	eventBuffer = 1024    // events waiting for the Events consumer
	packetSize  = 4096    // read buffer; DHCP over Ethernet fits in 1500
)

// Server answers DHCPv4 on one socket (one interface).
type Server struct {
	cfg      Config
	serverIP atomic.Pointer[netip.Addr] // Config.ServerIP, or SetServerIP's
	hosts    Hosts
	leases   Leases
	events   Events
	log      *slog.Logger
	limit    *ratelimit.Limiter // per-MAC packet rate
	quiet    *ratelimit.Limiter // per-MAC log throttle: one line a minute
	queue    chan any           // BootEvent or Discovery
	stats    counters
}

type counters struct {
	received, malformed, limited, ignored, replied, events, eventsLost atomic.Uint64
}

// Stats counts what the server did since New.
type Stats struct {
	Received    uint64 // datagrams read
	Malformed   uint64 // not parsable as DHCPv4
	RateLimited uint64 // dropped by the per-MAC limit
	Ignored     uint64 // parsed but left unanswered
	Replied     uint64 // replies sent
	Events      uint64 // events delivered to Events
	EventsLost  uint64 // events dropped because the consumer was slow
}

// New checks cfg and returns a Server. leases and events may be nil (no
// pools; no reports); log nil discards logs.
func New(cfg Config, hosts Hosts, leases Leases, events Events, log *slog.Logger) (*Server, error) {
	if !cfg.ServerIP.Is4() {
		return nil, fmt.Errorf("dhcp: Config.ServerIP %q is not an IPv4 address", cfg.ServerIP)
	}
	if hosts == nil {
		return nil, errors.New("dhcp: New needs Hosts")
	}
	if cfg.RateLimit < 0 || cfg.RateBurst < 0 || cfg.Workers < 0 {
		return nil, errors.New("dhcp: negative RateLimit, RateBurst or Workers")
	}
	cfg = withDefaults(cfg)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &Server{
		cfg: cfg, hosts: hosts, leases: leases, events: events, log: log,
		limit: ratelimit.New(cfg.RateLimit, cfg.RateBurst, maxTracked),
		quiet: ratelimit.New(1.0/60, 1, maxTracked),
		queue: make(chan any, eventBuffer),
	}
	srv.serverIP.Store(&cfg.ServerIP)
	return srv, nil
}

// ServerIP is the address the Server answers as (option 54, and the
// subnet a request without a relay arrived on).
func (s *Server) ServerIP() netip.Addr { return *s.serverIP.Load() }

// SetServerIP changes it from the next packet on: the interface's address
// inside a registered subnet may change with the registry.
func (s *Server) SetServerIP(ip netip.Addr) error {
	if !ip.Is4() {
		return fmt.Errorf("dhcp: server address %q is not an IPv4 address", ip)
	}
	s.serverIP.Store(&ip)
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst == 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.ClientPort == 0 {
		cfg.ClientPort = ClientPort
	}
	if cfg.RelayPort == 0 {
		cfg.RelayPort = ServerPort
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Received: c.received.Load(), Malformed: c.malformed.Load(), RateLimited: c.limited.Load(),
		Ignored: c.ignored.Load(), Replied: c.replied.Load(), Events: c.events.Load(), EventsLost: c.eventsLost.Load(),
	}
}

// Serve answers packets on conn until ctx is done, then closes conn and
// returns nil; it returns the error if reading conn fails otherwise.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	g, ctx := errgroup.WithContext(ctx)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	g.Go(func() error { s.pump(ctx); return nil })
	for range s.cfg.Workers {
		g.Go(func() error { return s.read(ctx, conn) })
	}
	return g.Wait()
}

// ServePXE answers, alongside Serve, the requests that PXE clients send
// to a proxyDHCP's boot server port (ProxyPort, Config.Proxy) on conn,
// replying to the address and port each came from, until ctx is done.
func (s *Server) ServePXE(ctx context.Context, conn net.PacketConn) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	return s.readFrom(ctx, conn, true)
}

func (s *Server) read(ctx context.Context, conn net.PacketConn) error {
	return s.readFrom(ctx, conn, false)
}

// readFrom answers the datagrams of conn; toPeer sends each reply to
// where its request came from rather than where RFC 2131 says.
func (s *Server) readFrom(ctx context.Context, conn net.PacketConn, toPeer bool) error {
	buf := make([]byte, packetSize)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("dhcp: read: %w", err)
		}
		s.stats.received.Add(1)
		s.handle(conn, buf[:n], peer, toPeer)
	}
}
