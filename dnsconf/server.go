package dnsconf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/internal/ratelimit"
)

// shutdownGrace bounds how long Serve waits for replies in flight.
const shutdownGrace = 5 * time.Second

// Config configures a Server.
type Config struct {
	Zone   Options      // how Update builds zones (Options.Serial is ignored)
	MaxUDP int          // largest UDP reply in bytes; 0 means DefaultMaxUDP
	Log    *slog.Logger // zone rebuilds and socket errors; nil discards
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
}

// Defaults of the rate limit for untrusted clients.
const (
	DefaultRateLimit = 20
	DefaultRateBurst = 40
	maxLimited       = 1 << 16 // addresses tracked; past it they share one bucket
)

// Server is the appliance's authoritative DNS server. It answers from the
// current Zone, swapped atomically by SetZone, Update or Changed.
type Server struct {
	cfg   Config
	log   *slog.Logger
	state state
	stats counters
	limit *ratelimit.Limiter // per untrusted client address (Config.Trusted)
	fwd   *forwarder         // nil without Config.Forward
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
	s := &Server{cfg: cfg, log: log, limit: ratelimit.New(cfg.RateLimit, cfg.RateBurst, maxLimited)}
	s.state.init()
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
// when udp was opened by ListenUDP; TCP through miekg/dns.
func (s *Server) Serve(ctx context.Context, udp *net.UDPConn, tcp net.Listener) error {
	if udp == nil && tcp == nil {
		return errors.New("dnsconf: Serve needs a UDP or a TCP socket")
	}
	g, gctx := errgroup.WithContext(ctx)
	if udp != nil {
		g.Go(func() error { return s.serveUDP(gctx, udp) })
	}
	if tcp != nil {
		s.run(gctx, g, "tcp "+tcp.Addr().String(), &dns.Server{Listener: tcp, Handler: s.handler(gctx)})
	}
	return g.Wait()
}

// run serves srv in g and shuts it down when ctx ends.
func (s *Server) run(ctx context.Context, g *errgroup.Group, what string, srv *dns.Server) {
	started, done := make(chan struct{}), make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	srv.MsgAcceptFunc = s.accept
	srv.MsgInvalidFunc = func([]byte, error) { s.stats.malformed.Add(1) }
	g.Go(func() error {
		defer close(done)
		if err := srv.ActivateAndServe(); err != nil {
			return fmt.Errorf("dnsconf: serve %s: %w", what, err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		select {
		case <-started:
		case <-done:
			return nil
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.ShutdownContext(sctx); err != nil {
			return fmt.Errorf("dnsconf: shut down %s: %w", what, err)
		}
		return nil
	})
}

// accept is miekg/dns's first check of a message (one question, opcode
// QUERY or NOTIFY, no responses), counted.
func (s *Server) accept(h dns.Header) dns.MsgAcceptAction {
	s.stats.queries.Add(1)
	a := dns.DefaultMsgAcceptFunc(h)
	switch a {
	case dns.MsgReject:
		s.stats.rcodes[dns.RcodeFormatError].Add(1)
	case dns.MsgRejectNotImplemented:
		s.stats.rcodes[dns.RcodeNotImplemented].Add(1)
	}
	return a
}

// handler answers TCP queries from the current zone, and forwards those
// for other names of the clients that may recurse. TCP is never rate
// limited: its source cannot be forged. Forwarding stops when ctx ends.
func (s *Server) handler(ctx context.Context) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		var m *dns.Msg
		var b []byte
		z, recurse := s.Zone(), s.mayRecurse(w.RemoteAddr())
		if recurse && forwardable(z, req, 0) {
			m, b = s.fwd.forward(ctx, req, 0)
		} else {
			m, b = reply(z, req, 0, recurse)
		}
		if m == nil || b == nil {
			return
		}
		s.stats.reply(m)
		if _, err := w.Write(b); err != nil {
			s.log.Debug("dns: write reply", "client", w.RemoteAddr().String(), "err", err)
		}
	})
}
