package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The fast path of ServeBoot: plain HTTP/1.1 GET and HEAD requests for the
// boot routes (a script, a kernel, an initrd: what every booting machine
// asks, thousands at once in a storm) are read and answered by the
// connection's goroutine itself, with the boot handler called directly,
// and the response (headers and a small body) written with one write(2).
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
// because the boot handler never needs it: trailers, Hijack, a context
// canceled when the client leaves mid-answer (a write then fails instead),
// headers changed after WriteHeader.

// BootPaths are the paths of BootHandler's routes: "/boot.ipxe" and
// everything under "/boot/" and "/images/", as http.ServeMux patterns. The
// handler given to ServeBoot must route them to the boot handler, as the
// fast path does.
func BootPaths() []string { return []string{"/boot.ipxe", "/boot/", "/images/"} }

func isBootPath(p string) bool {
	return p == "/boot.ipxe" || strings.HasPrefix(p, "/boot/") || strings.HasPrefix(p, "/images/")
}

const (
	fastReadBuf   = 4 << 10  // request header bytes the fast path reads; more go to net/http
	fastMaxHeader = 64       // header lines
	fastChunking  = 2 << 10  // body bytes buffered before the headers must go (net/http's bufferBeforeChunkingSize)
	fastFlushAt   = 32 << 10 // output buffered before a write
	fastCopyMax   = 64 << 10 // a body read from a file up to this size is copied, not sendfile'd
)

// ServeBoot is Serve, with the fast path above for the boot routes: h
// answers everything, boot (BootHandler's handler) the boot routes' plain
// GET and HEAD requests. h must send BootPaths to boot. Only TCP
// connections take the fast path.
func ServeBoot(ctx context.Context, l net.Listener, h, boot http.Handler) error {
	srv := newServer(ctx, h)
	ll := newLimitListener(l, maxConns)
	q := &connQueue{addr: ll.Addr(), ch: make(chan net.Conn), done: make(chan struct{})}
	fs := &fastServer{boot: boot, queue: q, srv: srv, conns: map[*fastConn]struct{}{}}
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
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
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
		return fmt.Errorf("images: http: %w", err)
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
	boot    http.Handler
	queue   *connQueue
	srv     *http.Server
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
			log.Printf("http: panic serving %v: %v\n%s", c.remote, err, buf)
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
			handed = true
			c.handOff()
			return
		}
		if !c.answer(req) {
			return
		}
		if c.r == c.w { // nothing pipelined: wait idle
			c.state.Store(connIdle)
			if c.fs.closing.Load() && c.state.CompareAndSwap(connIdle, connClosed) {
				return
			}
		}
	}
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
			c.c.SetReadDeadline(c.accepted.Add(readHeaderTimeout))
		} else {
			c.c.SetReadDeadline(time.Now().Add(idleTimeout))
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
		c.c.SetReadDeadline(time.Now().Add(readHeaderTimeout))
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

// parse parses the request at buf[r:w]: more is true when it is not all
// there yet; ok is false when net/http should answer it. On ok, r moves
// past it.
func (c *fastConn) parse() (req *http.Request, ok, more bool) {
	p := c.buf[c.r:c.w]
	line, rest, found := cutLine(p)
	if !found {
		return nil, false, line == nil
	}
	var method string
	switch {
	case bytes.HasPrefix(line, []byte("GET ")):
		method, line = http.MethodGet, line[4:]
	case bytes.HasPrefix(line, []byte("HEAD ")):
		method, line = http.MethodHead, line[5:]
	default:
		return nil, false, false
	}
	target, proto, found := bytes.Cut(line, []byte(" "))
	if !found || string(proto) != "HTTP/1.1" || !cleanTarget(target) {
		return nil, false, false
	}
	var host []byte
	hosts, close := 0, false
	clear(c.header)
	for n := 0; ; n++ {
		line, rest, found = cutLine(rest)
		if !found {
			return nil, false, line == nil
		}
		if len(line) == 0 {
			break
		}
		if n == fastMaxHeader {
			return nil, false, false
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !validToken(name) {
			return nil, false, false
		}
		value = bytes.Trim(value, " \t")
		if !validValue(value) {
			return nil, false, false
		}
		switch key := canonicalKey(name); key {
		case "Host":
			host, hosts = value, hosts+1
		case "Content-Length":
			if string(value) != "0" {
				return nil, false, false
			}
			c.header.Add(key, string(value))
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer", "Http2-Settings":
			return nil, false, false
		case "Connection":
			for _, tok := range strings.Split(string(value), ",") {
				switch tok = strings.TrimSpace(tok); {
				case strings.EqualFold(tok, "close"):
					close = true
				case strings.EqualFold(tok, "keep-alive"):
				default:
					return nil, false, false
				}
			}
			c.header.Add(key, string(value))
		default:
			c.header.Add(key, string(value))
		}
	}
	if hosts != 1 || !validHost(host) {
		return nil, false, false
	}
	c.r = c.w - len(rest)
	path := string(target)
	req = new(http.Request)
	*req = *c.base // its context
	req.Method, req.URL, req.Host, req.RequestURI, req.Close = method, &url.URL{Path: path}, string(host), path, close
	return req, true, false
}

// cutLine cuts the CRLF-ended line at the start of p. A nil line with
// found false: it has not all arrived; a line with a bare LF or CR is
// returned non-nil with found false, for net/http.
func cutLine(p []byte) (line, rest []byte, found bool) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		if bytes.IndexByte(p, '\r') >= 0 && p[len(p)-1] != '\r' {
			return p, nil, false
		}
		return nil, nil, false
	}
	if i == 0 || p[i-1] != '\r' || bytes.IndexByte(p[:i-1], '\r') >= 0 {
		return p, nil, false
	}
	return p[:i-1], p[i+1:], true
}

// cleanTarget: an origin-form target of a boot route that http.ServeMux
// takes as it is: no query, no escape, no dot segment, no empty segment.
func cleanTarget(t []byte) bool {
	if len(t) == 0 || t[0] != '/' || !isBootPath(string(t)) {
		return false
	}
	for _, b := range t {
		if !pathByte[b] {
			return false
		}
	}
	return !bytes.Contains(t, []byte("//")) && !bytes.Contains(t, []byte("/./")) && !bytes.Contains(t, []byte("/../")) &&
		!bytes.HasSuffix(t, []byte("/.")) && !bytes.HasSuffix(t, []byte("/.."))
}

// pathByte: the bytes a path segment may hold unescaped (RFC 3986 pchar),
// as url.URL.EscapedPath leaves them.
var pathByte = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/") {
		t[b] = true
	}
	return t
}()

// tokenByte: RFC 9110 tchar.
var tokenByte = func() (t [256]bool) {
	for _, b := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") {
		t[b] = true
	}
	return t
}()

func validToken[T string | []byte](b T) bool {
	if len(b) == 0 {
		return false
	}
	for i := 0; i < len(b); i++ {
		if !tokenByte[b[i]] {
			return false
		}
	}
	return true
}

// validValue: no control character but tab (httpguts.ValidHeaderFieldValue).
func validValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost: a name or address and port, the bytes of which net/http
// takes as they are; anything else is net/http's to judge.
func validHost(b []byte) bool {
	if len(b) == 0 || len(b) > maxHostLen {
		return false
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// canonicalKey is http.CanonicalHeaderKey without an allocation for the
// headers boot clients send.
func canonicalKey(name []byte) string {
	switch len(name) {
	case 4:
		if bytes.EqualFold(name, []byte("Host")) {
			return "Host"
		}
	case 5:
		if bytes.EqualFold(name, []byte("Range")) {
			return "Range"
		}
		if bytes.EqualFold(name, []byte("Accept")) {
			return "Accept"
		}
	case 10:
		if bytes.EqualFold(name, []byte("Connection")) {
			return "Connection"
		}
		if bytes.EqualFold(name, []byte("User-Agent")) {
			return "User-Agent"
		}
	}
	return http.CanonicalHeaderKey(string(name))
}

// fastHook, when set (by tests), sees every request the fast path answers.
var fastHook func(*http.Request)

// answer serves req with the boot handler; false: close the connection.
func (c *fastConn) answer(req *http.Request) bool {
	clear(c.respHeader)
	c.resp = fastResponse{c: c, req: req, header: c.respHeader, contentLength: -1, pend: c.pend[:0]}
	w := &c.resp
	if fastHook != nil {
		fastHook(req)
	}
	c.fs.boot.ServeHTTP(w, req)
	w.finish()
	return !w.closeAfter && c.werr == nil && !c.fs.closing.Load() &&
		!(req.Method != http.MethodHead && w.contentLength != -1 && bodyAllowed(w.status) && w.contentLength != w.written)
}

// fastResponse is the http.ResponseWriter of the fast path.
type fastResponse struct {
	c             *fastConn
	req           *http.Request
	header        http.Header
	wroteHeader   bool
	status        int
	contentLength int64 // -1: not known
	written       int64 // body bytes the handler wrote
	pend          []byte
	snap          headerSnap
	committed     bool // the headers are in c.out
	chunking      bool
	closeAfter    bool
}

func (w *fastResponse) Header() http.Header { return w.header }

func (w *fastResponse) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		c := w.c
		c.out = appendStatus(c.out, code)
		c.out = appendHeader(c.out, w.header, excludeNoBody)
		c.out = append(c.out, "\r\n"...)
		c.flush()
		return
	}
	w.wroteHeader, w.status = true, code
	if cl := w.header.Get("Content-Length"); cl != "" {
		v, err := strconv.ParseInt(cl, 10, 64)
		if err == nil && v >= 0 {
			w.contentLength = v
		} else {
			log.Printf("http: invalid Content-Length of %q", cl)
			w.header.Del("Content-Length")
		}
	}
	// As net/http, the headers are those of now: the handler may change
	// the map afterwards.
	h := w.header
	w.snap = headerSnap{ordinary: appendHeader(w.c.hdrBuf[:0], h, specialHeaders), contentType: h["Content-Type"],
		contentLength: h["Content-Length"], transferEncoding: h["Transfer-Encoding"], connection: h["Connection"],
		contentEncoding: h.Get("Content-Encoding")}
	_, w.snap.hasType = h["Content-Type"]
	_, w.snap.hasLength = h["Content-Length"]
	_, w.snap.hasDate = h["Date"]
	w.c.hdrBuf = w.snap.ordinary[:0]
}

// headerSnap is the response's header map when WriteHeader was called:
// the headers commit may leave out or add to apart, the others written.
type headerSnap struct {
	ordinary                                                 []byte
	contentType, contentLength, transferEncoding, connection []string
	contentEncoding                                          string
	hasType, hasLength, hasDate                              bool
}

var specialHeaders = []string{"Content-Type", "Content-Length", "Transfer-Encoding", "Connection"}

func (w *fastResponse) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	if !w.committed {
		if len(w.pend)+len(p) <= fastChunking {
			w.pend = append(w.pend, p...)
			return len(p), nil
		}
		n := 0
		if len(w.pend) > 0 { // fill the buffer, as bufio does
			n = copy(w.pend[len(w.pend):fastChunking], p)
			w.pend = w.pend[:len(w.pend)+n]
			w.commit(w.pend, false)
			w.body(w.pend)
		} else {
			w.commit(p, false)
		}
		w.body(p[n:])
	} else {
		w.body(p)
	}
	if w.c.werr != nil {
		return 0, w.c.werr
	}
	return len(p), nil
}

// ReadFrom copies a file's body: a small one into the response buffer, for
// one write with the headers, a large one with sendfile(2).
func (w *fastResponse) ReadFrom(src io.Reader) (n int64, err error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	if !w.committed {
		n0, err := io.CopyBuffer(writerOnly{w}, io.LimitReader(src, 512), buf)
		n += n0
		if err != nil || n0 < 512 {
			return n, err
		}
		w.commitPending(false) // as net/http: the headers go before the rest
	}
	c := w.c
	if w.chunking || !bodyAllowed(w.status) || w.req.Method == http.MethodHead || c.werr != nil {
		n0, err := io.CopyBuffer(writerOnly{w}, src, buf)
		return n + n0, err
	}
	if lr, ok := src.(*io.LimitedReader); ok && lr.N <= fastCopyMax {
		// Read it after the headers, for one write.
		size := int(lr.N)
		if w.contentLength != -1 && w.written+int64(size) > w.contentLength {
			n0, err := io.CopyBuffer(writerOnly{w}, src, buf)
			return n + n0, err
		}
		c.out = slices.Grow(c.out, size)
		m, err := io.ReadFull(lr, c.out[len(c.out):len(c.out)+size])
		c.out = c.out[:len(c.out)+m]
		n += int64(m)
		w.written += int64(m)
		if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			err = nil // the source was shorter: as io.Copy
		}
		if len(c.out) >= fastFlushAt {
			c.flush()
		}
		return n, err
	}
	// Corked, as nginx's tcp_nopush: the headers and the file go out in
	// full segments, not each sendfile(2) with a short one at its end
	// (twice the throughput on loopback). Uncorking sends what is left.
	if cork(c.c.TCPConn, true) {
		defer cork(c.c.TCPConn, false)
	}
	if c.flush(); c.werr != nil {
		return n, c.werr
	}
	n0, err := c.sendFile(src)
	n += n0
	w.written += n0
	if err != nil {
		c.werr = err
	}
	return n, err
}

// sendSlots bounds the connections sending a large file at one moment,
// and sendChunk how much one sends before it lets another take its turn
// (nginx's sendfile_max_chunk does the same within a worker). A thousand
// machines pulling their initrd at once otherwise share the cores among
// a thousand sockets, each woken to send what its buffer has room for:
// the storm moved 2.4 GB/s where 16 streams move 3.3. A connection
// waiting for its turn has its headers and part of its body already; the
// longest wait is about one turn of every other (1,000 x 4 MiB at 3 GB/s:
// a second), which neither TCP nor a boot loader notices.
//
// A turn lasts at most turnHold: a client that reads slowly gives up its
// slot and waits for another turn; one that read nothing in a whole turn
// (a machine switched off mid-download) sends the rest outside the turns,
// so that dead clients cannot hold the slots until TCP gives up on them.
var sendSlots = make(chan struct{}, 32)

const sendChunk = 4 << 20

var turnHold = 2 * time.Second // a variable for tests

// sendFile sends src, a file or a part of one, with sendfile(2), in
// chunks of sendChunk, each in a sendSlots turn.
func (c *fastConn) sendFile(src io.Reader) (int64, error) {
	lr, ok := src.(*io.LimitedReader)
	if !ok || c.wdeadline { // a deadline of the handler's own: not ours to change
		return c.c.ReadFrom(src)
	}
	var n int64
	turns := true
	for lr.N > 0 {
		part := &io.LimitedReader{R: lr.R, N: min(lr.N, sendChunk)}
		if !turns {
			part.N = lr.N
		}
		if turns {
			sendSlots <- struct{}{}
			c.c.SetWriteDeadline(time.Now().Add(turnHold))
		}
		m, err := c.c.ReadFrom(part) // sendfile(2), when lr.R is a file
		timedOut := false
		if turns {
			<-sendSlots
			c.c.SetWriteDeadline(time.Time{})
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				err, timedOut, turns = nil, true, m > 0 // slow: another turn; stuck: no more turns
			}
		}
		n += m
		lr.N -= m
		if err != nil {
			return n, err
		}
		if m == 0 && !timedOut {
			break // the file ended early
		}
	}
	return n, nil
}

// Flush implements http.Flusher.
func (w *fastResponse) Flush() {
	w.commitPending(false)
	w.c.flush()
}

// commitPending puts the headers, if they are not yet, and the body bytes
// held back for them into the output; done says the body is all there.
func (w *fastResponse) commitPending(done bool) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pend, done)
		w.body(w.pend)
		w.pend = w.pend[:0]
	}
}

// SetReadDeadline and SetWriteDeadline are for http.ResponseController.
func (w *fastResponse) SetReadDeadline(t time.Time) error { return w.c.c.SetReadDeadline(t) }

func (w *fastResponse) SetWriteDeadline(t time.Time) error {
	w.c.wdeadline = true
	return w.c.c.SetWriteDeadline(t)
}

func (w *fastResponse) finish() {
	w.commitPending(true)
	if w.chunking && w.req.Method != http.MethodHead {
		w.c.out = append(w.c.out, "0\r\n\r\n"...)
	}
	w.c.flush()
	if cap(w.c.out) > 16<<10 { // after a large answer: not kept while idle
		w.c.out = nil
	}
	if w.c.wdeadline {
		w.c.c.SetWriteDeadline(time.Time{})
		w.c.wdeadline = false
	}
}

// body adds body bytes to the output.
func (w *fastResponse) body(p []byte) {
	c := w.c
	if len(p) == 0 || w.req.Method == http.MethodHead || c.werr != nil {
		return
	}
	if w.chunking {
		c.out = strconv.AppendInt(c.out, int64(len(p)), 16)
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out)+len(p) > fastFlushAt && len(p) > fastFlushAt/2 {
		c.flush()
		if c.werr == nil {
			_, c.werr = c.c.Write(p)
		}
	} else {
		c.out = append(c.out, p...)
	}
	if w.chunking {
		c.out = append(c.out, "\r\n"...)
	}
	if len(c.out) >= fastFlushAt {
		c.flush()
	}
}

func (c *fastConn) flush() {
	if len(c.out) > 0 && c.werr == nil {
		_, c.werr = c.c.Write(c.out)
	}
	c.out = c.out[:0]
}

// excludeNoBody: the headers an informational answer leaves out.
var excludeNoBody = []string{"Content-Length", "Transfer-Encoding"}

// commit puts the status line and the headers into the output, as
// net/http's chunkWriter.writeHeader does; p is the first part of the
// body, and done says whether it is all of it.
func (w *fastResponse) commit(p []byte, done bool) {
	w.committed = true
	h := &w.snap
	isHEAD := w.req.Method == http.MethodHead
	te := first(h.transferEncoding)
	hasTE := te != ""
	var autoLength []byte
	if done && !hasTE && bodyAllowed(w.status) && !h.hasLength && (!isHEAD || len(p) > 0) {
		w.contentLength = int64(len(p))
		autoLength = strconv.AppendInt(nil, int64(len(p)), 10)
	}
	hasCL := w.contentLength != -1
	if w.req.Close || first(h.connection) == "close" {
		w.closeAfter = true
	}
	var ctype, connection, tencoding string
	keepType, keepLength, keepTE, keepConnection := true, true, true, true
	code := w.status
	if bodyAllowed(code) {
		if h.contentEncoding == "" && !h.hasType && !hasTE && len(p) > 0 {
			ctype = http.DetectContentType(p)
		}
	} else {
		keepLength, keepTE = false, false
		if code == http.StatusNotModified {
			keepType = false
		}
	}
	if hasCL && hasTE && te != "identity" {
		log.Printf("http: WriteHeader called with both Transfer-Encoding of %q and a Content-Length of %d", te, w.contentLength)
		keepLength, hasCL = false, false
	}
	switch {
	case isHEAD || !bodyAllowed(code) || code == http.StatusNoContent, hasCL:
		keepTE = false
	case hasTE && te == "identity":
		w.closeAfter, keepTE = true, false
	default:
		w.chunking, tencoding = true, "chunked"
		if te == "chunked" {
			keepTE = false
		}
	}
	if w.chunking {
		keepLength = false
	}
	if w.closeAfter && !hasToken(first(h.connection), "close") {
		keepConnection, connection = false, "close"
	}
	c := w.c
	c.out = appendStatus(c.out, code)
	c.out = append(c.out, h.ordinary...)
	for _, kv := range []struct {
		key  string
		vs   []string
		keep bool
	}{{"Content-Type", h.contentType, keepType}, {"Content-Length", h.contentLength, keepLength},
		{"Transfer-Encoding", h.transferEncoding, keepTE}, {"Connection", h.connection, keepConnection}} {
		if kv.keep {
			c.out = appendValues(c.out, kv.key, kv.vs)
		}
	}
	if !h.hasDate {
		c.out = append(c.out, "Date: "...)
		c.out = appendDate(c.out, time.Now())
		c.out = append(c.out, "\r\n"...)
	}
	if autoLength != nil {
		c.out = append(c.out, "Content-Length: "...)
		c.out = append(c.out, autoLength...)
		c.out = append(c.out, "\r\n"...)
	}
	for _, kv := range [][2]string{{"Content-Type", ctype}, {"Connection", connection}, {"Transfer-Encoding", tencoding}} {
		if kv[1] != "" {
			c.out = append(c.out, kv[0]+": "+kv[1]+"\r\n"...)
		}
	}
	c.out = append(c.out, "\r\n"...)
}

func first(vs []string) string {
	if len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func headerGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199 || status == http.StatusNoContent || status == http.StatusNotModified)
}

// hasToken: token is one of v's comma-separated elements, in any case.
func hasToken(v, token string) bool {
	for _, e := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(e), token) {
			return true
		}
	}
	return false
}

func appendStatus(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	if text := http.StatusText(code); text != "" {
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, ' ')
		b = append(b, text...)
		return append(b, "\r\n"...)
	}
	return fmt.Appendf(b, "%03d status code %d\r\n", code, code)
}

// appendHeader writes h but exclude as http.Header.Write does: sorted by
// key, invalid keys dropped, CR and LF in values as spaces, values trimmed.
func appendHeader(b []byte, h http.Header, exclude []string) []byte {
	var keys [16]string
	ks := keys[:0]
	for k := range h {
		if !slices.Contains(exclude, k) && validToken(k) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		b = appendValues(b, k, h[k])
	}
	return b
}

func appendValues(b []byte, k string, vs []string) []byte {
	for _, v := range vs {
		if !plainValue(v) {
			v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
			v = strings.Trim(v, " \t\r\n")
		}
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	return b
}

// plainValue: v has no CR or LF, nor white space to trim at its ends.
func plainValue(v string) bool {
	if v != "" && (v[0] == ' ' || v[0] == '\t' || v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' || v[i] == '\n' {
			return false
		}
	}
	return true
}

// The Date header, formatted once a second.
type dateText struct {
	sec  int64
	text []byte
}

var lastDate atomic.Pointer[dateText]

func appendDate(b []byte, now time.Time) []byte {
	sec := now.Unix()
	d := lastDate.Load()
	if d == nil || d.sec != sec {
		d = &dateText{sec, now.UTC().AppendFormat(nil, http.TimeFormat)}
		lastDate.Store(d)
	}
	return append(b, d.text...)
}
