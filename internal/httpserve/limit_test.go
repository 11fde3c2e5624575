package httpserve

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Served connections keep *net.TCPConn's ReadFrom (sendfile), and the
// limit holds: a connection past it waits until one closes.
func TestLimitListenerKeepsSendfile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, 1)
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
	c2, _ := net.Dial("tcp", ln.Addr().String())
	defer c2.Close()
	select {
	case <-accepted:
		t.Fatal("a second connection past the limit of 1")
	case <-time.After(200 * time.Millisecond):
	}
	s1.Close()
	select {
	case s2 := <-accepted:
		s2.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the slot was not freed")
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
	go srv.Serve(newLimitListener(ln, 4))
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
