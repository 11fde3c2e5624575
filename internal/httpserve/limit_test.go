package httpserve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Served connections keep *net.TCPConn's ReadFrom (sendfile), and the
// limit holds: a connection past it waits while the one open is busy, and
// takes the place of an idle one.
func TestLimitListenerKeepsSendfile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, 1, 0, nil)
	defer l.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	c1, _ := net.Dial("tcp", ln.Addr().String())
	defer c1.Close()
	s1 := <-accepted
	if _, ok := s1.(io.ReaderFrom); !ok {
		t.Fatalf("%T hides ReadFrom: no sendfile", s1)
	}
	slotOf(s1).busy()
	c2, _ := net.Dial("tcp", ln.Addr().String())
	defer c2.Close()
	select {
	case <-accepted:
		t.Fatal("a second connection past the limit of 1, the first busy")
	case <-time.After(200 * time.Millisecond):
	}
	s1.Close()
	var s2 net.Conn
	select {
	case s2 = <-accepted:
		defer s2.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the slot was not freed")
	}
	c3, _ := net.Dial("tcp", ln.Addr().String())
	defer c3.Close()
	select {
	case s3 := <-accepted:
		s3.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a connection past the limit waits, the one open idle")
	}
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("the idle connection, after a new one past the limit: %v, want it closed", err)
	}
}

// A file served through Serve goes out with sendfile: the response
// writer reaches the connection's ReadFrom. (Checked by what http's
// response writer finds, not by timing.)
func TestServeFileThroughLimit(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), make([]byte, 1<<20), 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var sawReaderFrom bool
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ConnState: func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			_, sawReaderFrom = c.(io.ReaderFrom)
		}
	}}
	go srv.Serve(newLimitListener(ln, 4, 4, nil))
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != 1<<20 || !sawReaderFrom {
		t.Fatalf("got %d bytes; connection has ReadFrom: %v", n, sawReaderFrom)
	}
}

// limitSite serves /boot/ (Config.Fast on the fast path) and /api/,
// through the fast path or net/http alone: /boot/wait and /api/wait
// answer once release is closed, any other path at once.
type limitSite struct {
	addr    string
	srv     *Server
	release chan struct{}
	waiting chan string // a /wait request has begun
}

func startLimitSite(t *testing.T, fast bool, cfg Config) *limitSite {
	t.Helper()
	s := &limitSite{release: make(chan struct{}), waiting: make(chan string, 100)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/wait") {
			s.waiting <- r.URL.Path
			<-s.release
		}
		fmt.Fprintf(w, "answer %s\n", r.URL.Path)
	})
	cfg.Handler = h
	if fast {
		cfg.Fast, cfg.FastPaths = h, []string{"/boot/"}
	}
	s.srv = New(cfg)
	s.addr = serveOn(t, s.srv)
	t.Cleanup(func() { // before the server stops: it waits for the answers
		select {
		case <-s.release:
		default:
			close(s.release)
		}
	})
	return s
}

// waitIdle waits until the server has n connections idle: its answer
// may reach the client before the server notes it.
func (s *limitSite) waitIdle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.srv.Stats().Idle != n {
		if time.Now().After(deadline) {
			t.Fatalf("idle connections: %+v, want %d", s.srv.Stats(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// client is a keep-alive connection to a site, from a loopback address.
type client struct {
	net.Conn
	br *bufio.Reader
}

func dialFrom(t *testing.T, from, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{Conn: c, br: bufio.NewReader(c)}
}

// get sends a GET for path; wait: read its answer too, "" when there is none.
func (c *client) get(path string, wait bool) string {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n"); err != nil || !wait {
		return ""
	}
	return c.answer()
}

// answer reads an answer: its status and body, or "closed".
func (c *client) answer() string {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return "closed"
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// closed: the server closed c, without a byte more.
func (c *client) closed() bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.br.Read(make([]byte, 1))
	return n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err))
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && strings.Contains(err.Error(), "reset")
}

func bothPaths(t *testing.T, test func(t *testing.T, fast bool)) {
	for _, fast := range []bool{true, false} {
		t.Run(map[bool]string{true: "fast", false: "net/http"}[fast], func(t *testing.T) { test(t, fast) })
	}
}

// At MaxConns, a new connection takes the place of the oldest idle one.
func TestIdleConnectionsMakeRoom(t *testing.T) {
	bothPaths(t, func(t *testing.T, fast bool) {
		s := startLimitSite(t, fast, Config{MaxConns: 4, MaxConnsPerClient: 100})
		var idle []*client
		for i := range 4 {
			c := dialFrom(t, "127.0.0.1", s.addr)
			if got := c.get(fmt.Sprintf("/boot/%d", i), true); got != fmt.Sprintf("200 answer /boot/%d", i) {
				t.Fatalf("connection %d: %q", i, got)
			}
			idle = append(idle, c)
			s.waitIdle(t, i+1)
		}
		c := dialFrom(t, "127.0.0.2", s.addr)
		if got := c.get("/api/x", true); got != "200 answer /api/x" {
			t.Errorf("a fifth connection, four idle open: %q", got)
		}
		if !idle[0].closed() {
			t.Error("the oldest idle connection is still open")
		}
		if st := s.srv.Stats(); st.Open != 4 || st.Evicted != 1 {
			t.Errorf("Stats %+v, want 4 open, 1 evicted", st)
		}
		for i, c := range idle[1:] {
			if got := c.get("/boot/again", true); got != "200 answer /boot/again" {
				t.Errorf("idle connection %d after the fifth: %q, want it still served", i+1, got)
			}
		}
	})
}

// A client at MaxConnsPerClient loses its oldest idle connection to its
// new one; with all of them busy, its new one is refused, and another
// client is still served.
func TestPerClientCap(t *testing.T) {
	bothPaths(t, func(t *testing.T, fast bool) {
		s := startLimitSite(t, fast, Config{MaxConnsPerClient: 3})
		var cs []*client
		for i := range 3 {
			c := dialFrom(t, "127.0.0.1", s.addr)
			c.get(fmt.Sprintf("/boot/%d", i), true)
			cs = append(cs, c)
			s.waitIdle(t, i+1)
		}
		c := dialFrom(t, "127.0.0.1", s.addr)
		if got := c.get("/boot/x", true); got != "200 answer /boot/x" {
			t.Errorf("a client's fourth connection, three idle: %q", got)
		}
		if !cs[0].closed() {
			t.Error("the client's oldest idle connection is still open")
		}
		cs = append(cs[1:], c)
		for _, c := range cs {
			c.get("/boot/wait", false)
			<-s.waiting
		}
		if got := dialFrom(t, "127.0.0.1", s.addr).get("/boot/y", true); got != "closed" {
			t.Errorf("a client's fourth connection, three busy: %q, want it refused", got)
		}
		if got := dialFrom(t, "127.0.0.2", s.addr).get("/boot/z", true); got != "200 answer /boot/z" {
			t.Errorf("another client meanwhile: %q", got)
		}
		if st := s.srv.Stats(); st.Refused != 1 || st.Evicted != 1 {
			t.Errorf("Stats %+v, want 1 refused, 1 evicted", st)
		}
		close(s.release)
		for i, c := range cs {
			if got := c.answer(); got != "200 answer /boot/wait" {
				t.Errorf("busy connection %d: %q", i, got)
			}
		}
	})
}

// Requests outside Config.Reserved leave ReservedConns connections to the
// reserved ones: past their share they are answered 503; a reserved one
// is served. With every connection busy, a new one waits for a free one.
func TestReservedShare(t *testing.T) {
	bothPaths(t, func(t *testing.T, fast bool) {
		s := startLimitSite(t, fast, Config{MaxConns: 6, MaxConnsPerClient: 100, Reserved: []string{"/api/"}, ReservedConns: 2})
		var busy []*client
		for range 4 {
			c := dialFrom(t, "127.0.0.1", s.addr)
			c.get("/boot/wait", false)
			<-s.waiting
			busy = append(busy, c)
		}
		c := dialFrom(t, "127.0.0.1", s.addr)
		c.get("/boot/x", false)
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || !resp.Close {
			t.Fatalf("a boot request past the share: %v %v, want 503, Retry-After: 1, the connection closed", resp, err)
		}
		if st := s.srv.Stats(); st.Overloaded != 1 {
			t.Errorf("Stats %+v, want 1 overloaded", st)
		}
		for i := range 2 {
			c := dialFrom(t, "127.0.0.1", s.addr)
			if got := c.get("/api/x", true); got != "200 answer /api/x" {
				t.Errorf("an API request, the boot share full: %q", got)
			}
			c.get("/api/wait", false)
			if got := <-s.waiting; got != "/api/wait" {
				t.Fatalf("waiting %d: %s", i, got)
			}
			busy = append(busy, c)
		}
		late := dialFrom(t, "127.0.0.1", s.addr)
		late.get("/api/late", false)
		answered := make(chan string, 1)
		go func() { answered <- late.answer() }()
		select {
		case got := <-answered:
			t.Fatalf("a seventh connection, six busy: %q before one was free", got)
		case <-time.After(300 * time.Millisecond):
		}
		close(s.release)
		if got := <-answered; got != "200 answer /api/late" {
			t.Errorf("a seventh connection once one is free: %q", got)
		}
		for _, c := range busy {
			c.answer()
		}
	})
}

// The listener's accept ends when the server stops, a connection waiting
// for a slot closed.
func TestLimitListenerCloseWhileWaiting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, 1, 0, nil)
	c1 := dialFrom(t, "127.0.0.1", ln.Addr().String())
	s1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	slotOf(s1).busy()
	c2 := dialFrom(t, "127.0.0.1", ln.Addr().String())
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(200 * time.Millisecond) // Accept waits for a slot (nothing says when it has begun)
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
	if !c2.closed() {
		t.Error("the connection that waited is still open")
	}
	_ = c1
}

// A client is an IPv4 address (an IPv4-mapped IPv6 one too) or an IPv6
// /64; anything but TCP has no per-client cap.
func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"10.0.0.5:80":               "10.0.0.5",
		"[::ffff:10.0.0.5]:80":      "10.0.0.5",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::",
		"[2001:db8:1:2:ff::1]:80":   "2001:db8:1:2::",
		"[fe80::1%lo]:80":           "fe80::",
		"[2001:db8:1:3::1]:80":      "2001:db8:1:3::",
	} {
		ta, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientKey(ta).String(); got != want {
			t.Errorf("clientKey(%s) = %s, want %s", addr, got, want)
		}
	}
	if got := clientKey(&net.UnixAddr{Name: "/tmp/s", Net: "unix"}); got.IsValid() {
		t.Errorf("clientKey(unix) = %s, want none", got)
	}
}
