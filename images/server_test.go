package images

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func serveForTest(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, h) }()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String()
}

// A body that does not arrive is cut at the read timeout; an answer that
// takes longer than it, to a request without a body, is not.
func TestServeReadTimeout(t *testing.T) {
	old := readTimeout
	readTimeout = 300 * time.Millisecond
	t.Cleanup(func() { readTimeout = old })
	addr := serveForTest(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	}))
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
