package dnsconf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/internal/ratelimit"
)

// Config configures a Server.
type Config struct {
	Zone   Options      // how Update builds zones (Options.Serial is ignored)
	MaxUDP int          // largest UDP reply in bytes; 0 means DefaultMaxUDP
	Log    *slog.Logger // zone rebuilds and socket errors; nil discards
	// CDBDir, if set, keeps the data.cdb served on disk, for a restart
	// to serve at once (persist.go).
	CDBDir string
	// Kept, if set, is told how many bytes of data.cdb records a version
	// kept on disk let go of in memory (the appliance gives them back to
	// the system).
	Kept func(bytes int64)
	// Trusted, if set, says which clients are the appliance's own (inside
	// a registered subnet): UDP queries from the others are rate limited
	// per address (RateLimit a second, bursts of RateBurst), so that the
	// server cannot be used to reflect and amplify traffic (the RRL of
	// NSD and Knot). TCP is never limited: its source cannot be forged.
	Trusted   func(netip.Addr) bool
	RateLimit float64 // 0 means DefaultRateLimit
	RateBurst int     // 0 means DefaultRateBurst
	// Forward lists the upstream resolvers, tried in order, that answer
	// the queries for names outside the zone of the clients Recursion
	// allows (their replies have RA set); the answers are cached. Without
	// upstreams or Recursion, such names are REFUSED, as they are to the
	// other clients: this is no open resolver.
	Forward         []netip.AddrPort
	Recursion       func(netip.Addr) bool
	UpstreamTimeout time.Duration // one try of one upstream; 0 means DefaultUpstreamTimeout
	CacheSize       int           // forwarded answers kept; 0 means DefaultCacheSize, -1 none
	CacheBytes      int           // their packed size; 0 means DefaultCacheBytes
	// At most MaxInFlight forwarded queries wait for an upstream at once
	// (past it: SERVFAIL), MaxInFlightPerClient of one client address
	// (past it: REFUSED); a client's forwarded queries that miss the
	// cache are limited to RecursionRate a second, bursts of
	// RecursionBurst (past it: REFUSED). Zero means the Default.
	MaxInFlight          int
	MaxInFlightPerClient int
	RecursionRate        float64
	RecursionBurst       int
	// At most MaxTCP TCP connections are open at once, MaxTCPPerClient
	// from one address (past them a new one is closed at once); one waits
	// TCPIdleTimeout for its next query (a second when more than half of
	// MaxTCP are open). Zero means the Default.
	MaxTCP          int
	MaxTCPPerClient int
	TCPIdleTimeout  time.Duration
}

// Defaults of the rate limit for untrusted clients.
const (
	DefaultRateLimit = 20
	DefaultRateBurst = 40
	maxLimited       = 1 << 16 // addresses tracked; past it they share one bucket
)

// Defaults of the bounds of forwarding and of TCP.
const (
	DefaultMaxInFlight          = 200 // dnsmasq's dns-forward-max is 150
	DefaultMaxInFlightPerClient = 20
	DefaultRecursionRate        = 100
	DefaultRecursionBurst       = 200
	DefaultMaxTCP               = 500
	DefaultMaxTCPPerClient      = 10
	DefaultTCPIdleTimeout       = 8 * time.Second // miekg/dns's; RFC 7766 6.2.3: a few seconds
)

// defaults fills the zero bounds of cfg.
func (cfg *Config) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&cfg.MaxInFlight, DefaultMaxInFlight)
	set(&cfg.MaxInFlightPerClient, DefaultMaxInFlightPerClient)
	set(&cfg.RecursionBurst, DefaultRecursionBurst)
	set(&cfg.MaxTCP, DefaultMaxTCP)
	set(&cfg.MaxTCPPerClient, DefaultMaxTCPPerClient)
	if cfg.RecursionRate <= 0 {
		cfg.RecursionRate = DefaultRecursionRate
	}
	if cfg.TCPIdleTimeout <= 0 {
		cfg.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
}

// Server is the appliance's authoritative DNS server. It answers from the
// current Zone, swapped atomically by SetZone, Update or Changed.
type Server struct {
	cfg   Config
	log   *slog.Logger
	state state
	stats counters
	limit *ratelimit.Limiter // per untrusted client address (Config.Trusted)
	fwd   *forwarder         // nil without Config.Forward
	tcp   *inflight          // TCP connections open
	// The data.cdb on disk (Config.CDBDir): the one a restart found, for
	// its version, and what keeps the latest there.
	disk    atomic.Pointer[diskCDB]
	persist *cdbPersister
}

// New checks cfg and returns a Server with no zone yet: until the first
// one is set, queries get SERVFAIL.
func New(cfg Config) (*Server, error) {
	if _, err := cfg.Zone.origin(); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxUDP == 0:
		cfg.MaxUDP = DefaultMaxUDP
	case cfg.MaxUDP < dns.MinMsgSize || cfg.MaxUDP > dns.MaxMsgSize:
		return nil, fmt.Errorf("%w: MaxUDP %d is not between %d and %d", ErrOptions, cfg.MaxUDP, dns.MinMsgSize, dns.MaxMsgSize)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	cfg.defaults()
	s := &Server{cfg: cfg, log: log, limit: ratelimit.New(cfg.RateLimit, cfg.RateBurst, maxLimited),
		tcp: newInflight(cfg.MaxTCP, cfg.MaxTCPPerClient)}
	s.state.init()
	if cfg.CDBDir != "" {
		s.persist = newCDBPersister(cfg.CDBDir, log)
		s.persist.kept = cfg.Kept
	}
	if len(cfg.Forward) > 0 {
		fwd, err := newForwarder(cfg, &s.stats, log)
		if err != nil {
			return nil, err
		}
		s.fwd = fwd
	}
	return s, nil
}

// Serve answers on udp and tcp (either may be nil) until ctx is
// cancelled, then closes them and returns nil (Run applies the changes
// announced by Changed). It returns an error if a socket fails. UDP goes
// through the fast path (serveUDP), which opens one more socket per CPU
// when udp was opened by ListenUDP; TCP through serveTCP.
func (s *Server) Serve(ctx context.Context, udp *net.UDPConn, tcp net.Listener) error {
	if udp == nil && tcp == nil {
		return errors.New("dnsconf: Serve needs a UDP or a TCP socket")
	}
	if s.fwd != nil {
		s.fwd.open()
		defer s.fwd.close()
	}
	g, gctx := errgroup.WithContext(ctx)
	if udp != nil {
		g.Go(func() error { return s.serveUDP(gctx, udp) })
	}
	if tcp != nil {
		g.Go(func() error { return s.serveTCP(gctx, tcp) })
	}
	return g.Wait()
}

// respond answers the query req of client: from the zone, returned; or
// when the client may recurse and the name is outside the zone, through
// the forwarder, which calls send (from a goroutine of its own when
// async), and then respond returns nil.
func (s *Server) respond(ctx context.Context, client netip.Addr, req *dns.Msg, maxUDP int, async bool, send func(*dns.Msg, []byte)) (*dns.Msg, []byte) {
	z, recurse := s.Zone(), s.mayRecurse(client)
	if recurse && forwardable(z, req, maxUDP) {
		s.fwd.recurse(ctx, client, req, maxUDP, async, send)
		return nil, nil
	}
	return reply(z, req, maxUDP, recurse)
}
