package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Server. Zero durations and counts are the defaults
// named beside them.
//
// There is no write timeout: a rootfs over a slow link may take minutes,
// and an idle client is cut by the kernel's TCP timers. A request's body
// must arrive within ReadTimeout (a handler that takes a long upload,
// after checking who sends it, lifts it with http.ResponseController); a
// request without a body has the deadline lifted once its headers are
// read, or net/http would cancel a long answer (an event stream, a slow
// rootfs) when it passes.
type Config struct {
	Handler http.Handler // answers every request net/http reads; required
	// Fast, if set, answers on the fast path the plain HTTP/1.1 GET and
	// HEAD requests, over TCP, for a path of FastPaths. Handler must route
	// FastPaths to Fast too: the requests the fast path leaves to net/http
	// (another method, HTTP/1.0, a body, a query...) reach it that way.
	Fast http.Handler
	// FastPaths are http.ServeMux patterns without method or host: a path
	// ending in "/" takes everything under it, any other only itself.
	FastPaths []string
	Log       *slog.Logger // the server's own errors; nil: slog.Default()

	// MaxConns bounds the connections open at once; 2048. At it, the
	// oldest idle ones (waiting for a request) close to make room; with
	// none idle, more wait in the accept queue. MaxConnsPerClient bounds
	// those of one client (an IPv4 address, an IPv6 /64); 64. At it, the
	// client's oldest idle one closes for its new one; with none idle, the
	// new one is refused (closed). See limit.go.
	MaxConns          int
	MaxConnsPerClient int
	// Reserved are patterns, as FastPaths, of the requests the others must
	// not starve: the API's and the dashboard's on a listener they share
	// with the boot routes. ReservedConns connections (64 by default) are
	// kept for them: a request for another path that would leave fewer is
	// answered 503 (Retry-After: 1) and its connection closed.
	Reserved          []string
	ReservedConns     int
	ReadHeaderTimeout time.Duration // for a request's headers, from the accept or its first byte; 10 s
	ReadTimeout       time.Duration // for a request with a body, headers and body; 30 s
	IdleTimeout       time.Duration // between two requests on a connection; 2 min
	ShutdownGrace     time.Duration // for the answers in flight once the context ends; 5 s
	// SendSlots bounds the connections sending a large file at one moment
	// on the fast path, each for a turn of sendChunk bytes; 32 (see
	// sendfile.go). A turn lasts at most TurnHold; 2 s.
	SendSlots int
	TurnHold  time.Duration
}

// Defaults of Config.
const (
	defaultMaxConns          = 2048
	defaultMaxConnsPerClient = 64
	defaultReservedConns     = 64
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 30 * time.Second
	defaultIdleTimeout       = 2 * time.Minute
	defaultShutdownGrace     = 5 * time.Second
	defaultSendSlots         = 32
	defaultTurnHold          = 2 * time.Second
)

// Server serves HTTP on listeners; see Config. One Server may serve
// several listeners at once: they share its send slots.
type Server struct {
	handler, fast     http.Handler
	fastPaths         pathSet
	reserved          pathSet
	log               *slog.Logger
	maxConns          int
	maxPerClient      int
	reservedConns     int // with reserved
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	idleTimeout       time.Duration
	shutdownGrace     time.Duration
	turnHold          time.Duration
	sendSlots         chan struct{}            // one token per connection in its sendfile turn
	date              atomic.Pointer[dateText] // the Date header of this second
	counts            counts                   // for Stats
}

// New returns a Server of cfg, its zero fields given their defaults.
func New(cfg Config) *Server {
	s := &Server{handler: cfg.Handler, fast: cfg.Fast, log: cfg.Log,
		maxConns:          orDefault(cfg.MaxConns, defaultMaxConns),
		maxPerClient:      orDefault(cfg.MaxConnsPerClient, defaultMaxConnsPerClient),
		fastPaths:         newPathSet(cfg.FastPaths),
		reserved:          newPathSet(cfg.Reserved),
		readHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, defaultReadHeaderTimeout),
		readTimeout:       orDefault(cfg.ReadTimeout, defaultReadTimeout),
		idleTimeout:       orDefault(cfg.IdleTimeout, defaultIdleTimeout),
		shutdownGrace:     orDefault(cfg.ShutdownGrace, defaultShutdownGrace),
		turnHold:          orDefault(cfg.TurnHold, defaultTurnHold),
		sendSlots:         make(chan struct{}, orDefault(cfg.SendSlots, defaultSendSlots)),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if len(cfg.Reserved) > 0 {
		s.reservedConns = min(orDefault(cfg.ReservedConns, defaultReservedConns), s.maxConns-1)
	}
	return s
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// isFast: p is one of FastPaths.
func (s *Server) isFast(p []byte) bool { return inPathSet(&s.fastPaths, p) }

// pathSet is a set of http.ServeMux patterns without method or host: a
// path ending in "/" takes everything under it, any other only itself.
type pathSet struct{ exact, prefixes []string }

func newPathSet(patterns []string) pathSet {
	var ps pathSet
	for _, p := range patterns {
		if strings.HasSuffix(p, "/") {
			ps.prefixes = append(ps.prefixes, p)
		} else {
			ps.exact = append(ps.exact, p)
		}
	}
	return ps
}

// has: p is in ps.
func (ps *pathSet) has(p string) bool { return inPathSet(ps, p) }

// inPathSet: p is in ps. (Without an allocation: string(p) is only compared.)
func inPathSet[T string | []byte](ps *pathSet, p T) bool {
	for _, e := range ps.exact {
		if string(p) == e {
			return true
		}
	}
	for _, pre := range ps.prefixes {
		if len(p) >= len(pre) && string(p[:len(pre)]) == pre {
			return true
		}
	}
	return false
}

// Serve answers HTTP on l until ctx is done, then stops accepting, gives
// the requests in flight ShutdownGrace to finish, closes the rest and
// returns nil. Serve owns l and closes it. With Config.Fast it serves
// through the fast path, else through net/http alone.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.handler == nil {
		l.Close()
		return errors.New("httpserve: Config.Handler is nil")
	}
	if s.fast != nil {
		return s.serveFast(ctx, l)
	}
	ll := s.newLimitListener(l)
	defer s.counts.serving(ll, false)
	srv := s.newServer(ctx, ll)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ll) }()
	select {
	case err := <-done:
		return fmt.Errorf("httpserve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpserve: %w", err)
	}
	return nil
}

// newLimitListener is l with the Server's connection limits.
func (s *Server) newLimitListener(l net.Listener) *limitListener {
	ll := newLimitListener(l, s.maxConns, s.maxPerClient, s.log)
	ll.counts = &s.counts
	s.counts.serving(ll, true)
	if s.reservedConns > 0 {
		ll.share.max = int64(s.maxConns - s.reservedConns)
	}
	return ll
}

// newServer is the net/http server of Serve on ll, with or without the
// fast path. Its connections are busy, for ll, from a request's headers
// to the end of its answer (http.StateActive), else idle.
func (s *Server) newServer(ctx context.Context, ll *limitListener) *http.Server {
	inner := s.handler
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		if !s.reserved.has(r.URL.Path) {
			if !ll.share.enter() {
				s.counts.overloaded.Add(1)
				overloaded(w)
				return
			}
			defer ll.share.leave()
		}
		inner.ServeHTTP(w, r)
	})
	return &http.Server{Handler: h, ReadHeaderTimeout: s.readHeaderTimeout, ReadTimeout: s.readTimeout, IdleTimeout: s.idleTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ConnState:   connState,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelError)}
}

// connState tells a connection's slot what net/http does with it.
func connState(c net.Conn, st http.ConnState) {
	sl := slotOf(c)
	if sl == nil {
		return
	}
	switch st {
	case http.StateActive, http.StateHijacked:
		sl.busy()
	case http.StateIdle:
		sl.idle()
	}
}
