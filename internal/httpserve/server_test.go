package httpserve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// A body that does not arrive is cut at the read timeout; an answer that
// takes longer than it, to a request without a body, is not.
func TestServeReadTimeout(t *testing.T) {
	const readTimeout = 300 * time.Millisecond
	addr := serveOn(t, New(Config{ReadTimeout: readTimeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PUT" {
			_, err := io.ReadAll(r.Body)
			fmt.Fprintf(w, "read: %v", err)
			return
		}
		select {
		case <-time.After(3 * readTimeout):
			fmt.Fprint(w, "slow answer")
		case <-r.Context().Done():
			http.Error(w, "cancelled", 500)
		}
	})}))
	resp, err := http.Get("http://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "slow answer" {
		t.Errorf("a slow answer to a GET: %q", body)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	line, _ := bufio.NewReader(c).ReadString('\n')
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a stalled body held the connection for %v", d)
	}
	t.Logf("after a stalled body: %q", strings.TrimSpace(line))
}

// FastPaths are ServeMux patterns: one ending in "/" takes what is under
// it, any other only itself.
func TestIsFast(t *testing.T) {
	s := New(Config{FastPaths: []string{"/boot.ipxe", "/boot/", "/images/"}})
	for p, want := range map[string]bool{
		"/boot.ipxe": true, "/boot/x.ipxe": true, "/boot/": true, "/images/a/kernel": true, "/images/": true,
		"/boot.ipxe2": false, "/boot": false, "/images": false, "/": false, "/zone/data.cdb": false, "/bootx/": false,
	} {
		if got := s.isFast([]byte(p)); got != want {
			t.Errorf("isFast(%q) = %v, want %v", p, got, want)
		}
	}
	if New(Config{}).isFast([]byte("/boot.ipxe")) {
		t.Error("a path is fast without FastPaths")
	}
}

// A Config without a Handler is refused, and the listener closed.
func TestServeWithoutHandler(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := New(Config{}).Serve(context.Background(), l); err == nil {
		t.Error("Serve without a Handler: no error")
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the listener after Serve refused: %v, want it closed", err)
	}
}

// A handler's panic is logged to Config.Log, on the fast path as through
// net/http, with the client's address and the panic.
func TestPanicLogged(t *testing.T) {
	var buf testenv.Buffer
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	addr := serveOn(t, New(Config{Handler: h, Fast: h, FastPaths: []string{"/boot/"}, Log: slog.New(slog.NewTextHandler(&buf, nil))}))
	for _, raw := range []string{
		"GET /boot/x HTTP/1.1\r\nHost: h\r\n\r\n", // the fast path
		"GET /other HTTP/1.1\r\nHost: h\r\n\r\n",  // net/http
	} {
		c := dialSend(t, addr, []byte(raw))
		io.Copy(io.Discard, c) // closed without an answer
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(buf.String(), "http: panic serving 127.0.0.1:") < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := buf.String(); strings.Count(got, "level=ERROR msg=\"http: panic serving 127.0.0.1:") != 2 || strings.Count(got, ": boom") != 2 {
		t.Errorf("log:\n%s\nwant two panics logged at ERROR", got)
	}
}
