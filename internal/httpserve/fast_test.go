package httpserve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exchange is what a server answered to raw requests on one connection.
type exchange struct {
	Responses []string // status, headers but Date, body
	Open      bool     // the connection still answered a request after them
}

// roundTrip writes raw to a new connection, reads n responses, then tries
// one more request to see whether the connection stays open.
func roundTrip(t *testing.T, addr, raw string, n int) exchange {
	t.Helper()
	ex := roundTripRaw(t, addr, raw, n)
	for i, r := range ex.Responses {
		ex.Responses[i] = strings.ReplaceAll(r, addr, "ADDR")
	}
	return ex
}

// dialSend opens a connection to addr, closed at the end of the test,
// with a deadline of 10 s, and writes raw to it.
func dialSend(t testing.TB, addr string, raw []byte) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

func roundTripRaw(t *testing.T, addr, raw string, n int) exchange {
	t.Helper()
	c := dialSend(t, addr, []byte(raw))
	defer c.Close()
	if n < 0 { // the request is all there is
		c.CloseWrite()
		n = 1
	}
	br := bufio.NewReader(c)
	methods := requestMethods(raw)
	var ex exchange
	for i := range n {
		req := &http.Request{Method: methods[min(i, len(methods)-1)]}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			ex.Responses = append(ex.Responses, "error: "+err.Error())
			return ex
		}
		ex.Responses = append(ex.Responses, describe(t, resp))
	}
	io.WriteString(c, "GET /boot/next HTTP/1.1\r\nHost: h\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if resp, err := http.ReadResponse(br, nil); err == nil {
		io.Copy(io.Discard, resp.Body)
		ex.Open = true
	}
	return ex
}

func requestMethods(raw string) []string {
	var out []string
	for _, line := range strings.Split(raw, "\n") {
		if m, _, ok := strings.Cut(line, " "); ok && strings.Contains(line, " HTTP/") {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []string{"GET"}
	}
	return out
}

// describe is a response as compared: the multipart boundary, which is
// random, replaced.
func describe(t testing.TB, resp *http.Response) string {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Sprintf("%s: body error %v", resp.Status, err)
	}
	h := resp.Header.Clone()
	if h.Get("Date") != "" {
		h.Set("Date", "DATE")
	}
	if _, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && params["boundary"] != "" {
		body = bytes.ReplaceAll(body, []byte(params["boundary"]), []byte("BOUNDARY"))
		h.Set("Content-Type", strings.ReplaceAll(h.Get("Content-Type"), params["boundary"], "BOUNDARY"))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	h.Write(&b)
	fmt.Fprintf(&b, "length %d, chunked %v, close %v\n\n%q", resp.ContentLength, slicesHas(resp.TransferEncoding, "chunked"), resp.Close, body)
	return b.String()
}

func slicesHas(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// eventSummary is the events as compared: the server's address replaced.
func eventSummary(evs []event, addr string) []string {
	var out []string
	for _, e := range evs {
		out = append(out, strings.ReplaceAll(fmt.Sprintf("%+v", e), addr, "ADDR"))
	}
	return out
}

// TestFastPathAnswersAsNetHTTP sends the same raw requests to the boot
// routes with the fast path and through net/http alone: the answers,
// whether the connection stays open, and the events (what the handler saw
// of the request, what the Recorder noted) are the same.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	f := newFixture(t)
	tiny := f.add(t, "tiny", "kernel", randomBytes(12, 4096))
	fast, slow := startSite(t, f, true), startSite(t, f, false)
	k := f.digest["centos9/kernel"]
	get := func(target string, hdr ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: boot.test:80\r\n" + strings.Join(hdr, "") + "\r\n"
	}
	head := func(target string, hdr ...string) string {
		return "HEAD " + target + " HTTP/1.1\r\nHost: boot.test:80\r\n" + strings.Join(hdr, "") + "\r\n"
	}
	tests := []struct {
		name string
		raw  string
		n    int // responses
		fast int // of them answered by the fast path: all of them before "For net/http"
	}{
		{"script by IP", get("/boot.ipxe"), 1, 0},
		{"script HEAD", head("/boot.ipxe"), 1, 0},
		{"script by MAC", get("/boot/52:54:00:aa:bb:01.ipxe"), 1, 0},
		{"script by MAC, netboot off", get("/boot/52-54-00-aa-bb-02.ipxe"), 1, 0},
		{"unknown MAC", get("/boot/00:00:5e:00:53:01.ipxe"), 1, 0},
		{"malformed MAC", get("/boot/zz.ipxe"), 1, 0},
		{"not .ipxe", get("/boot/event"), 1, 0},
		{"kernel", get("/images/centos9/kernel"), 1, 0},
		{"kernel HEAD", head("/images/centos9/kernel"), 1, 0},
		{"initrd", get("/images/centos9/initrd"), 1, 0},
		{"rootfs", get("/images/centos9/rootfs"), 1, 0},
		{"sums", get("/images/centos9/SHA256SUMS"), 1, 0},
		{"small file", get("/images/tiny/kernel"), 1, 0},
		{"small file HEAD", head("/images/tiny/kernel"), 1, 0},
		{"small file range", get("/images/tiny/kernel", "Range: bytes=10-20\r\n"), 1, 0},
		{"small file if-none-match", get("/images/tiny/kernel", `If-None-Match: "`+tiny+`"`+"\r\n"), 1, 0},
		{"small file twice", get("/images/tiny/kernel") + get("/images/tiny/kernel"), 2, 0},
		{"range", get("/images/centos9/kernel", "Range: bytes=100-199\r\n"), 1, 0},
		{"suffix range", get("/images/centos9/kernel", "Range: bytes=-10\r\n"), 1, 0},
		{"open range", get("/images/centos9/kernel", "Range: bytes=99990-\r\n"), 1, 0},
		{"multi range", get("/images/centos9/kernel", "Range: bytes=0-10,20-30\r\n"), 1, 0},
		{"bad range", get("/images/centos9/kernel", "Range: bytes=99999999-\r\n"), 1, 0},
		{"range HEAD", head("/images/centos9/kernel", "Range: bytes=0-9\r\n"), 1, 0},
		{"if-none-match", get("/images/centos9/kernel", `If-None-Match: "`+k+`"`+"\r\n"), 1, 0},
		{"if-none-match other", get("/images/centos9/kernel", `If-None-Match: "x"`+"\r\n"), 1, 0},
		{"if-modified-since", get("/images/centos9/kernel", "If-Modified-Since: "+time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)+"\r\n"), 1, 0},
		{"if-range", get("/images/centos9/kernel", "Range: bytes=0-9\r\n", `If-Range: "`+k+`"`+"\r\n"), 1, 0},
		{"if-match fails", get("/images/centos9/kernel", `If-Match: "x"`+"\r\n"), 1, 0},
		{"sums 304", get("/images/centos9/SHA256SUMS", "If-None-Match: *\r\n"), 1, 0},
		{"unknown image", get("/images/nope/kernel"), 1, 0},
		{"unknown file", get("/images/centos9/nope"), 1, 0},
		{"image without file", get("/images/centos9"), 1, 0},
		{"images root", get("/images/"), 1, 0},
		{"connection close", get("/boot.ipxe", "Connection: close\r\n"), 1, 0},
		{"connection keep-alive", get("/images/centos9/kernel", "Connection: keep-alive\r\n"), 1, 0},
		{"upper-case headers", "GET /boot.ipxe HTTP/1.1\r\nHOST: boot.test\r\nUSER-AGENT: iPXE/1.21\r\nCONNECTION: Keep-Alive\r\n\r\n", 1, 0},
		{"content-length 0", get("/boot.ipxe", "Content-Length: 0\r\n"), 1, 0},
		{"repeated header", get("/images/centos9/kernel", "Range: bytes=0-9\r\n", "Range: bytes=5-6\r\n"), 1, 0},
		{"keep-alive sequence", get("/boot.ipxe") + get("/images/centos9/kernel") + head("/images/centos9/initrd") + get("/boot/52:54:00:aa:bb:01.ipxe"), 4, 0},
		{"fast then net/http", get("/boot.ipxe") + "POST /boot/event HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nbooted\n" + get("/images/centos9/kernel"), 3, 1},
		// For net/http, on the same connection.
		{"HTTP/1.0", "GET /boot.ipxe HTTP/1.0\r\n\r\n", 1, 0},
		{"HTTP/1.0 keep-alive", "GET /images/centos9/kernel HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1, 0},
		{"query", get("/boot.ipxe?x=1"), 1, 0},
		{"dot segment", get("/images/centos9/../centos9/kernel"), 1, 0},
		{"double slash", get("//boot.ipxe"), 1, 0},
		{"escape", get("/images/%63entos9/kernel"), 1, 0},
		{"escaped slash", get("/images/centos9%2fkernel"), 1, 0},
		{"other path", get("/zone/data.cdb"), 1, 0},
		{"boot without slash", get("/boot"), 1, 0},
		{"post", "POST /boot/event HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nbooted\n", 1, 0},
		{"post then get", "POST /boot/event HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nbooted\n" + get("/boot.ipxe"), 2, 0},
		{"put", "PUT /images/centos9/kernel HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", 1, 0},
		{"options", "OPTIONS /boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n", 1, 0},
		{"no host", "GET /boot.ipxe HTTP/1.1\r\n\r\n", 1, 0},
		{"two hosts", "GET /boot.ipxe HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 1, 0},
		{"host with a space", "GET /boot.ipxe HTTP/1.1\r\nHost: a b\r\n\r\n", 1, 0},
		{"host with expansion", "GET /boot.ipxe HTTP/1.1\r\nHost: a${b}\r\n\r\n", 1, 0},
		{"bad header name", get("/boot.ipxe", "Bad Name: x\r\n"), 1, 0},
		{"control in value", get("/boot.ipxe", "X: a\x01b\r\n"), 1, 0},
		{"folded header", get("/boot.ipxe", "X: a\r\n b\r\n"), 1, 0},
		{"bare LF", "GET /boot.ipxe HTTP/1.1\nHost: h\n\n", 1, 0},
		{"bare CR", "GET /boot.ipxe HTTP/1.1\rHost: h\r\n\r\n", 1, 0},
		{"expect", get("/boot.ipxe", "Expect: 100-continue\r\n"), 1, 0},
		{"chunked GET", get("/boot.ipxe", "Transfer-Encoding: chunked\r\n") + "0\r\n\r\n", 1, 0},
		{"body on GET", get("/boot.ipxe", "Content-Length: 3\r\n") + "abc", 1, 0},
		{"upgrade", get("/boot.ipxe", "Connection: Upgrade\r\n", "Upgrade: websocket\r\n"), 1, 0},
		{"large header", get("/boot.ipxe", "Cookie: "+strings.Repeat("c", 6000)+"\r\n"), 1, 0},
		{"many headers", get("/boot.ipxe", strings.Repeat("X-A: b\r\n", 80)), 1, 0},
		{"two spaces", "GET  /boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n", 1, 0},
		{"absolute form", "GET http://h/boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n", 1, 0},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 1, 0},
		{"lower-case method", "get /boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n", 1, 0},
		{"cut short", "GET /boot.ipxe HTTP/1.1\r\nHost: h\r\n", -1, 0},
	}
	forNetHTTP := false
	for _, tt := range tests {
		if tt.name == "HTTP/1.0" {
			forNetHTTP = true
		}
		if !forNetHTTP && tt.fast == 0 {
			tt.fast = tt.n
		}
		t.Run(tt.name, func(t *testing.T) {
			want := roundTrip(t, slow.addr, tt.raw, tt.n)
			fast.fast.Store(0)
			got := roundTrip(t, fast.addr, tt.raw, tt.n)
			wantFast := int64(tt.fast)
			if got.Open && tt.fast == tt.n {
				wantFast++ // and the request that checks the connection
			}
			if n := fast.fast.Load(); n != wantFast {
				t.Errorf("%d requests on the fast path, want %d", n, wantFast)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the fast path answers otherwise than net/http (-net/http +fast):\n%s", diff)
			}
			time.Sleep(20 * time.Millisecond) // the events of the last request
			we, ge := eventSummary(slow.events.take(), slow.addr), eventSummary(fast.events.take(), fast.addr)
			if diff := cmp.Diff(we, ge); diff != "" {
				t.Errorf("events (-net/http +fast):\n%s", diff)
			}
		})
	}
}

// TestFastPathHandler: a handler's output that the boot handler does not
// make (no Content-Length, a long body, sniffing, 204, 1xx, a panic) comes
// out as from net/http.
func TestFastPathHandler(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/boot/short":
			io.WriteString(w, "<html>hello</html>")
		case "/boot/long":
			for i := range 100 {
				fmt.Fprintf(w, "line %d %s\n", i, strings.Repeat("x", 100))
			}
		case "/boot/long-length":
			w.Header().Set("Content-Length", "10100")
			for range 100 {
				io.WriteString(w, strings.Repeat("y", 101))
			}
		case "/boot/short-length":
			w.Header().Set("Content-Length", "10")
			io.WriteString(w, "12345")
		case "/boot/too-long":
			w.Header().Set("Content-Length", "3")
			_, err := io.WriteString(w, "12345")
			fmt.Fprint(w, err)
		case "/boot/nocontent":
			w.WriteHeader(204)
			_, err := io.WriteString(w, "x")
			w.Header().Set("X-Err", fmt.Sprint(err))
		case "/boot/early-hints":
			w.Header().Set("Link", "</x>; rel=preload")
			w.WriteHeader(103)
			io.WriteString(w, "after hints")
		case "/boot/flush":
			io.WriteString(w, "part one ")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part two")
		case "/boot/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		case "/boot/empty":
		case "/boot/status":
			w.WriteHeader(299)
		case "/boot/header-newline":
			w.Header().Set("X-A", " a\r\nb ")
			w.Header().Set("Bad Key", "x")
		case "/boot/readfrom":
			w.Header().Set("Content-Type", "text/plain")
			io.Copy(w, io.LimitReader(strings.NewReader(strings.Repeat("z", 200000)), 150000))
		case "/boot/readfrom-sniff":
			io.Copy(w, strings.NewReader("%PDF-"+strings.Repeat("z", 1000)))
		case "/boot/panic":
			panic("boom")
		case "/boot/abort":
			panic(http.ErrAbortHandler)
		}
	})
	fast, slow := serveOn(t, New(Config{Handler: h, Fast: h, FastPaths: []string{"/boot/"}})), serveOn(t, New(Config{Handler: h}))
	for _, p := range []string{"short", "long", "long-length", "short-length", "too-long", "nocontent", "early-hints", "flush",
		"close", "empty", "status", "header-newline", "readfrom", "readfrom-sniff", "panic", "abort"} {
		for _, m := range []string{"GET", "HEAD"} {
			t.Run(m+" "+p, func(t *testing.T) {
				raw := m + " /boot/" + p + " HTTP/1.1\r\nHost: h\r\n\r\n"
				want := roundTrip(t, slow, raw, 1)
				got := roundTrip(t, fast, raw, 1)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-net/http +fast):\n%s", diff)
				}
			})
		}
	}
}

// TestFastPathTimeouts: an idle connection closes after IdleTimeout, one
// whose request headers stall after ReadHeaderTimeout.
func TestFastPathTimeouts(t *testing.T) {
	f := newFixture(t)
	s := startSite(t, f, true, func(c *Config) { c.IdleTimeout, c.ReadHeaderTimeout = 300*time.Millisecond, 300*time.Millisecond })
	closedWithin := func(t *testing.T, c net.Conn, d time.Duration) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(d))
		start := time.Now()
		_, err := io.Copy(io.Discard, c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("still open after %v", time.Since(start))
		}
	}
	// answered sends raw and reads the one answer it has.
	answered := func(t *testing.T, raw string) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		return c
	}
	t.Run("idle", func(t *testing.T) {
		c := answered(t, "GET /images/centos9/kernel HTTP/1.1\r\nHost: h\r\n\r\n")
		closedWithin(t, c, 3*time.Second)
	})
	t.Run("stalled header", func(t *testing.T) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /boot.ipxe HTTP/1.1\r\nHo")
		closedWithin(t, c, 3*time.Second)
	})
	t.Run("stalled second request", func(t *testing.T) {
		c := answered(t, "GET /images/centos9/SHA256SUMS HTTP/1.1\r\nHost: h\r\n\r\nGET /boot.ipxe HTTP/1.1\r\n")
		closedWithin(t, c, 3*time.Second)
	})
}

// TestFastPathShutdown: at shutdown, idle connections close at once, and
// a download under way finishes within the grace period.
func TestFastPathShutdown(t *testing.T) {
	f := newFixture(t)
	big := randomBytes(9, 16<<20)
	f.add(t, "big", "rootfs", big)
	boot := f.handler(&eventLog{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Config{Handler: boot, Fast: boot, FastPaths: bootPaths}).Serve(ctx, l) }()
	addr := l.Addr().String()

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "GET /images/centos9/SHA256SUMS HTTP/1.1\r\nHost: h\r\n\r\n")
	ibr := bufio.NewReader(idle)
	resp, err := http.ReadResponse(ibr, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)

	busy, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	io.WriteString(busy, "GET /images/big/rootfs HTTP/1.1\r\nHost: h\r\n\r\n")
	bbr := bufio.NewReaderSize(busy, 1024)
	resp, err = http.ReadResponse(bbr, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Read a little, so that the server is blocked in the middle of the body.
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	cancel()
	idle.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := ibr.Read(make([]byte, 1)); n != 0 || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Errorf("idle connection at shutdown: %d bytes, %v; want it closed", n, err)
	}
	time.Sleep(200 * time.Millisecond)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(rest) != len(big)-1<<20 {
		t.Errorf("download under way at shutdown: %d more bytes, %v", len(rest), err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(defaultShutdownGrace + 5*time.Second):
		t.Fatal("Serve did not return")
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestFastPathPipeline: requests sent together are answered in order, the
// fast path's and net/http's on one connection.
func TestFastPathPipeline(t *testing.T) {
	f := newFixture(t)
	s := startSite(t, f, true)
	raw := strings.Repeat("GET /images/centos9/SHA256SUMS HTTP/1.1\r\nHost: h\r\n\r\n", 20) +
		"POST /boot/event HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nbooted\n" +
		"GET /images/centos9/kernel HTTP/1.1\r\nHost: h\r\n\r\n"
	ex := roundTrip(t, s.addr, raw, 22)
	if len(ex.Responses) != 22 || !ex.Open {
		t.Fatalf("%d responses, open %v: %q", len(ex.Responses), ex.Open, ex.Responses)
	}
	for i, r := range ex.Responses {
		want := "200 OK"
		if i == 20 {
			want = "204 No Content"
		}
		if !strings.HasPrefix(r, "HTTP/1.1 "+want) {
			t.Errorf("response %d: %.80q", i, r)
		}
	}
	time.Sleep(20 * time.Millisecond)
	evs := s.events.take()
	if len(evs) != 23 || evs[20].Step != "booted" || evs[21].Path != "/images/centos9/kernel" {
		t.Errorf("events: %q", eventSummary(evs, s.addr))
	}
}

// TestFastPathLargeThenSmall: after a file sent corked (sendfile), the
// connection is uncorked: a small answer after it comes at once, not after
// the kernel's 200 ms.
func TestFastPathLargeThenSmall(t *testing.T) {
	f := newFixture(t)
	s := startSite(t, f, true)
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, p := range []string{"/images/centos9/rootfs", "/images/centos9/SHA256SUMS", "/images/centos9/kernel", "/images/centos9/SHA256SUMS"} {
		start := time.Now()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", p)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d, %d bytes, %v", p, resp.StatusCode, len(body), err)
		}
		if key := strings.TrimPrefix(p, "/images/"); key != "centos9/SHA256SUMS" && !bytes.Equal(body, f.content[key]) {
			t.Errorf("%s: not the file", p)
		}
		if d := time.Since(start); i%2 == 1 && d > 150*time.Millisecond {
			t.Errorf("%s after a file took %v", p, d)
		}
	}
}

// FuzzFastPathAsNetHTTP sends any bytes as requests, with the fast path
// and through net/http alone: every answer is the same. (The seeds run in
// every test run; `go test -fuzz FuzzFastPathAsNetHTTP
// ./internal/httpserve` looks for more.)
func FuzzFastPathAsNetHTTP(f *testing.F) {
	fx := newFixture(f)
	fast, slow := startSite(f, fx, true), startSite(f, fx, false)
	for _, seed := range []string{
		"GET /boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n",
		"HEAD /images/centos9/kernel HTTP/1.1\r\nHost: h:80\r\nRange: bytes=1-2\r\n\r\n",
		"GET /boot/52:54:00:aa:bb:01.ipxe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /images/centos9/SHA256SUMS HTTP/1.1\r\nHost: h\r\n\r\nGET /boot.ipxe HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /images/centos9/../x HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /boot.ipxe HTTP/1.1\r\nHost: h\r\nX: \x7f\r\n\r\n",
		"GET /boot.ipxe HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\n\r\n",
		"GET /boot.ipxe HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
		"GET /images/ HTTP/1.1\r\nhost:h\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 8<<10 {
			return
		}
		want, got := exchangeAll(t, slow.addr, raw), exchangeAll(t, fast.addr, raw)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: the fast path answers otherwise than net/http (-net/http +fast):\n%s", raw, diff)
		}
	})
}

// exchangeAll writes raw to a new connection, closes its writing half,
// and reads every answer (up to 8) until the server closes or an answer
// does not parse.
func exchangeAll(t *testing.T, addr string, raw []byte) []string {
	t.Helper()
	c := dialSend(t, addr, raw)
	defer c.Close()
	c.CloseWrite()
	br := bufio.NewReader(c)
	methods := requestMethods(string(raw))
	var out []string
	for i := range 8 {
		resp, err := http.ReadResponse(br, &http.Request{Method: methods[min(i, len(methods)-1)]})
		if err != nil {
			break
		}
		out = append(out, strings.ReplaceAll(describe(t, resp), addr, "ADDR"))
	}
	return out
}

// TestFastPathLargeFilesInTurns: more connections than SendSlots pull a
// file of several sendChunks at once, whole or by a range across chunk
// boundaries, with keep-alive: every byte arrives, in order, and each
// connection then answers its next request.
func TestFastPathLargeFilesInTurns(t *testing.T) {
	f := newFixture(t)
	big := randomBytes(21, 2*sendChunk+12345)
	f.add(t, "big", "rootfs", big)
	s := startSite(t, f, true)
	slots := s.srv.sendSlots
	if cap(slots) != defaultSendSlots {
		t.Fatalf("%d send slots, want the default %d", cap(slots), defaultSendSlots)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*cap(slots))
	for i := range 2 * cap(slots) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := 0, len(big)-1
			req, _ := http.NewRequest("GET", "http://"+s.addr+"/images/big/rootfs", nil)
			if i%2 == 1 { // across both chunk boundaries
				from, to = sendChunk-7-i, 2*sendChunk+9+i
				req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(body, big[from:to+1]) {
				errs <- fmt.Errorf("connection %d: %s, %d bytes (want %d), err %v", i, resp.Status, len(body), to+1-from, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(slots); n != 0 {
		t.Errorf("%d send slots still taken", n)
	}
}

// TestFastPathStuckClientsLoseTheirTurn: as many clients as SendSlots ask
// for a large file and never read it; a client that does read still gets
// all of it, once the stuck ones have had a turn (TurnHold) without
// progress.
func TestFastPathStuckClientsLoseTheirTurn(t *testing.T) {
	f := newFixture(t)
	big := randomBytes(22, 2*sendChunk+777)
	f.add(t, "big", "rootfs", big)
	s := startSite(t, f, true, func(c *Config) { c.TurnHold = 200 * time.Millisecond })
	slots := cap(s.srv.sendSlots)
	small := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	for range slots {
		c, err := small.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /images/big/rootfs HTTP/1.1\r\nHost: h\r\n\r\n") // and never read
	}
	time.Sleep(100 * time.Millisecond) // they take the slots
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get("http://" + s.addr + "/images/big/rootfs")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("behind %d stuck clients: %d of %d bytes, %v", slots, len(body), len(big), err)
	}
}

// TestFastPathTurnOverBeforeSendfile: a turn that is over before
// sendfile(2) begins (a goroutine held up longer than TurnHold, made
// certain here by a TurnHold of 1 ns) loses no byte of the file: net's
// fallback copy reads a buffer of it before its write times out.
func TestFastPathTurnOverBeforeSendfile(t *testing.T) {
	f := newFixture(t)
	big := randomBytes(23, 2*sendChunk+999)
	f.add(t, "big", "rootfs", big)
	s := startSite(t, f, true, func(c *Config) { c.TurnHold = time.Nanosecond })
	for _, rng := range []string{"", "bytes=1000-5000000", "", "bytes=1000-5000000", ""} {
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/images/big/rootfs", nil)
		from, to := 0, len(big)-1
		if rng != "" {
			req.Header.Set("Range", rng)
			from, to = 1000, 5000000
		}
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(body, big[from:to+1]) {
			t.Errorf("Range %q: %s, %d bytes (want %d), err %v", rng, resp.Status, len(body), to+1-from, err)
		}
	}
}

// unread moves a Seeker back; a reader that cannot is an error, not a
// body with a hole.
func TestUnread(t *testing.T) {
	r := strings.NewReader("0123456789")
	io.CopyN(io.Discard, r, 8)
	if err := unread(r, 3); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "56789" {
		t.Errorf("after unread: %q, want 56789", rest)
	}
	if err := unread(io.MultiReader(r), 0); err != nil {
		t.Errorf("nothing to unread: %v", err)
	}
	if err := unread(io.MultiReader(r), 1); err == nil {
		t.Error("unread of a reader that cannot seek: no error")
	}
}
