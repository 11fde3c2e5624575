package httpserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The fast path of Serve: plain HTTP/1.1 GET and HEAD requests for
// Config.FastPaths, the boot routes (a script, a kernel, an initrd: what
// every booting machine asks, thousands at once in a storm), are read and
// answered by the connection's goroutine itself, with Config.Fast called
// directly, and the response (headers and a small body) written with one
// write(2).
// net/http costs about 15 µs of CPU a request on top of that (a goroutine
// reading ahead in the background to notice a client leaving, a context
// and a cancel per request, two writes for a body over 4 KiB): half of
// what a small answer costs.
//
// Everything else goes to net/http, on the same connection, with the bytes
// already read: any other method or path, HTTP/1.0, a request with a body
// or with a header the fast path does not handle (Expect, Upgrade,
// Transfer-Encoding, a Connection token other than close and keep-alive),
// a target that net/http's mux would clean or unescape, anything malformed
// (net/http then answers 400 as it always did), a header block over
// fastReadBuf. From then on the connection is net/http's. The answers are
// net/http's own: the response writer below follows net/http's
// (chunkWriter.writeHeader): the Date header, a Content-Length when the
// handler sets none and writes at most 2 KiB, chunking otherwise, sniffing
// a missing Content-Type, no body for HEAD, 204 and 304 (and 304's headers
// dropped), Connection: close on request, a connection that is not reused
// after a short body, sendfile(2) for a large file. What it does not do,
// because the boot handler (Config.Fast) never needs it: trailers, Hijack,
// a context canceled when the client leaves mid-answer (a write then fails
// instead), headers changed after WriteHeader.

const (
	fastReadBuf   = 4 << 10  // request header bytes the fast path reads; more go to net/http
	fastMaxHeader = 64       // header lines
	fastChunking  = 2 << 10  // body bytes buffered before the headers must go (net/http's bufferBeforeChunkingSize)
	fastFlushAt   = 32 << 10 // output buffered before a write
	fastCopyMax   = 64 << 10 // a body read from a file up to this size is copied, not sendfile'd
)

// serveFast is Serve with the fast path above: s.handler answers
// everything, s.fast the plain GET and HEAD requests for FastPaths. Only
// TCP connections take the fast path.
func (s *Server) serveFast(ctx context.Context, l net.Listener) error {
	ll := s.newLimitListener(l)
	defer s.counts.serving(ll, false)
	srv := s.newServer(ctx, ll)
	q := &connQueue{addr: ll.Addr(), ch: make(chan net.Conn), done: make(chan struct{})}
	fs := &fastServer{s: s, queue: q, srv: srv, conns: map[*fastConn]struct{}{}}
	fs.ctx = context.WithValue(ctx, http.ServerContextKey, srv)
	served, accepted := make(chan error, 1), make(chan error, 1)
	go func() { served <- srv.Serve(q) }()
	go func() { accepted <- fs.accept(ll) }()
	var serveErr, acceptErr error
	gotServe, gotAccept := false, false
	select {
	case serveErr = <-served:
		gotServe = true
	case acceptErr = <-accepted:
		gotAccept = true
	case <-ctx.Done():
	}
	ll.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownGrace)
	defer cancel()
	fs.shutdown()
	if e := srv.Shutdown(sctx); e != nil {
		srv.Close()
	}
	fs.wait(sctx)
	if !gotAccept {
		acceptErr = <-accepted
	}
	if !gotServe {
		serveErr = <-served
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := errors.Join(acceptErr, serveErr); err != nil {
		return fmt.Errorf("httpserve: %w", err)
	}
	return nil
}

// connQueue is the listener net/http serves: the connections the fast
// path hands over.
type connQueue struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error   { q.closed.Do(func() { close(q.done) }); return nil }
func (q *connQueue) Addr() net.Addr { return q.addr }

func (q *connQueue) hand(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.done:
		c.Close()
	}
}

type fastServer struct {
	s       *Server      // the config, the send slots
	queue   *connQueue   // to srv
	srv     *http.Server // what the fast path does not answer
	ctx     context.Context
	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*fastConn]struct{} // served by the fast path
	wg      sync.WaitGroup         // one for each of conns
}

// accept serves l's connections until it is closed; a closed l returns nil.
func (fs *fastServer) accept(l net.Listener) error {
	var delay time.Duration // as net/http, on a temporary error
	for {
		c, err := l.Accept()
		if err != nil {
			if fs.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Temporary() { //nolint:staticcheck // as net/http.Server.Serve
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		tc, ok := c.(*limitedTCPConn)
		if !ok {
			fs.queue.hand(c)
			continue
		}
		fc := &fastConn{fs: fs, c: tc, accepted: time.Now()}
		if !fs.track(fc) {
			tc.Close()
			continue
		}
		go fc.serve()
	}
}

func (fs *fastServer) track(fc *fastConn) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closing.Load() {
		return false
	}
	fs.conns[fc] = struct{}{}
	fs.wg.Add(1)
	return true
}

func (fs *fastServer) untrack(fc *fastConn) {
	fs.mu.Lock()
	delete(fs.conns, fc)
	fs.mu.Unlock()
	fs.wg.Done()
}

// shutdown closes the idle connections; the others close after their answer.
func (fs *fastServer) shutdown() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.closing.Store(true)
	for fc := range fs.conns {
		if fc.state.CompareAndSwap(connIdle, connClosed) {
			fc.c.Close()
		}
	}
}

// wait waits for the connections to finish until ctx ends, then closes them.
func (fs *fastServer) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { fs.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	fs.mu.Lock()
	for fc := range fs.conns {
		fc.c.Close()
	}
	fs.mu.Unlock()
	<-done
}

// States of a fastConn.
const (
	connIdle   = iota // waiting for a request: shutdown closes it
	connActive        // reading or answering one
	connClosed
)

type fastConn struct {
	fs       *fastServer
	c        *limitedTCPConn
	state    atomic.Int32
	accepted time.Time
	ctx      context.Context
	remote   string
	buf      []byte // read buffer: buf[r:w] is unparsed
	r, w     int
	out      []byte        // response bytes not yet written
	werr     error         // the first write error
	header   http.Header   // of the request
	base     *http.Request // what every request has: the connection's
	// The response being written, its header map and its first body
	// bytes (those a Content-Length is counted from): kept for the next.
	resp       fastResponse
	respHeader http.Header
	pend       []byte
	hdrBuf     []byte
	wdeadline  bool // a write deadline was set: clear it after the answer
}

// Buffers: a connection's for reading, and those ReadFrom copies through.
var (
	fastBufs = sync.Pool{New: func() any { b := make([]byte, fastReadBuf); return &b }}
	copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
)

func (c *fastConn) serve() {
	handed := false
	defer func() {
		if err := recover(); err != nil && err != http.ErrAbortHandler {
			const size = 64 << 10
			buf := make([]byte, size)
			buf = buf[:runtime.Stack(buf, false)]
			c.fs.srv.ErrorLog.Printf("http: panic serving %v: %v\n%s", c.remote, err, buf)
		}
		if !handed {
			c.state.Store(connClosed)
			c.c.Close()
			c.fs.untrack(c)
		}
		if c.buf != nil {
			b := c.buf[:fastReadBuf]
			fastBufs.Put(&b)
		}
	}()
	c.remote = c.c.RemoteAddr().String()
	ctx, cancel := context.WithCancel(context.WithValue(c.fs.ctx, http.LocalAddrContextKey, c.c.LocalAddr()))
	defer cancel()
	c.ctx = ctx
	c.base = (&http.Request{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Body: http.NoBody,
		RemoteAddr: c.remote}).WithContext(ctx)
	c.header = c.base.Header
	c.buf = (*fastBufs.Get().(*[]byte))[:fastReadBuf]
	c.respHeader = http.Header{}
	c.pend = make([]byte, 0, fastChunking)
	c.state.Store(connActive)
	first := true
	for {
		req, ok, err := c.readRequest(first)
		first = false
		if err != nil {
			return
		}
		if !ok {
			if !c.c.slot.busy() { // until net/http reads on
				return
			}
			handed = true
			c.handOff()
			return
		}
		if !c.serveRequest(req) {
			return
		}
		if c.r == c.w { // nothing pipelined: wait idle
			c.c.slot.idle()
			c.state.Store(connIdle)
			if c.fs.closing.Load() && c.state.CompareAndSwap(connIdle, connClosed) {
				return
			}
		}
	}
}

// serveRequest answers req, its connection busy for the listener
// meanwhile (not evicted), the request counted in the boot share unless
// it is Reserved; false: close the connection.
func (c *fastConn) serveRequest(req *http.Request) bool {
	sl := c.c.slot
	if !sl.busy() {
		return false // evicted as its request came in
	}
	h := c.fs.s.fast
	if !c.fs.s.reserved.has(req.URL.Path) {
		if sh := sl.l.share; sh.enter() {
			defer sh.leave()
		} else {
			c.fs.s.counts.overloaded.Add(1)
			h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { overloaded(w) })
		}
	}
	return c.answer(req, h)
}

// handOff gives the connection, with what was read of it, to net/http.
func (c *fastConn) handOff() {
	pending := slices.Clone(c.buf[c.r:c.w])
	c.c.SetReadDeadline(time.Time{})
	c.fs.untrack(c)
	c.fs.queue.hand(&prefixConn{limitedTCPConn: c.c, pending: pending})
}

// prefixConn is a connection whose first bytes were already read; it
// keeps *net.TCPConn's ReadFrom (sendfile).
type prefixConn struct {
	*limitedTCPConn
	pending []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.limitedTCPConn.Read(p)
}

// readRequest reads the next request: ok is false when it is one for
// net/http; err, when the connection is done.
func (c *fastConn) readRequest(first bool) (req *http.Request, ok bool, err error) {
	if c.r == c.w {
		// As net/http: the first request's headers must arrive within
		// readHeaderTimeout of the accept; a next one may take
		// idleTimeout to start, then readHeaderTimeout.
		c.r, c.w = 0, 0
		if first {
			c.c.SetReadDeadline(c.accepted.Add(c.fs.s.readHeaderTimeout))
		} else {
			c.c.SetReadDeadline(time.Now().Add(c.fs.s.idleTimeout))
		}
		n, err := c.c.Read(c.buf)
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return nil, false, err
		}
		if !c.state.CompareAndSwap(connIdle, connActive) && c.state.Load() != connActive {
			return nil, false, net.ErrClosed // shut down while idle
		}
		c.w = n
	}
	if !first {
		// As net/http, which peeks 4 bytes before a next request: a
		// connection that ends before them closes without an answer.
		if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		for c.w < 4 {
			n, err := c.c.Read(c.buf[c.w:])
			c.w += n
			if n == 0 && err != nil {
				return nil, false, err
			}
		}
	}
	req, ok, more := c.parse()
	if !more {
		return req, ok, nil
	}
	if !first { // the rest of the headers within readHeaderTimeout
		c.c.SetReadDeadline(time.Now().Add(c.fs.s.readHeaderTimeout))
	}
	for {
		if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		if c.w == len(c.buf) {
			return nil, false, nil // a large header: net/http's
		}
		n, err := c.c.Read(c.buf[c.w:])
		c.w += n
		if n == 0 && err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return nil, false, err // as net/http: closed without an answer
			}

			return nil, false, nil // net/http answers what it can of a request cut short (400)
		}
		if req, ok, more = c.parse(); !more {
			return req, ok, nil
		}
	}
}
