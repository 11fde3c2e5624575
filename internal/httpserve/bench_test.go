package httpserve

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkServe: requests a second over keep-alive connections on
// loopback, one connection per parallel client (GOMAXPROCS of them), for
// the boot routes on the fast path and through net/http alone, and for a
// route the fast path leaves to net/http. The client reads each answer
// with net/http's ReadResponse, the same for every case: compare a case
// with itself before and after a change, not cases with each other.
//
//	go test -run XXX -bench . ./internal/httpserve/
func BenchmarkServe(b *testing.B) {
	f := newFixture(b)
	f.add(b, "bench", "kernel", randomBytes(7, 4096))
	cases := []struct {
		name, path string
		fast       bool
		size       int64 // body bytes, for MB/s
	}{
		{"fast/script", "/boot.ipxe", true, 0},
		{"fast/small", "/images/bench/kernel", true, 4096},
		{"fast/large", "/images/centos9/kernel", true, 100_000},
		{"nethttp/small", "/images/bench/kernel", false, 4096},
		{"fast/other", "/other", true, 0},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			s := startSite(b, f, bc.fast)
			raw := []byte("GET " + bc.path + " HTTP/1.1\r\nHost: h\r\n\r\n")
			b.SetBytes(bc.size)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c, err := net.Dial("tcp", s.addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				br := bufio.NewReaderSize(c, 64<<10)
				for pb.Next() {
					if _, err := c.Write(raw); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || strings.Contains(resp.Header.Get("Connection"), "close") {
						b.Errorf("%s: %s, Connection %q", bc.path, resp.Status, resp.Header.Get("Connection"))
						return
					}
				}
			})
		})
	}
}

// BenchmarkRequestAccounting: what the connection limits add to each
// request on the fast path (its connection marked busy, counted in the
// boot share, marked idle again), with the share bounded as on a
// listener shared with the API.
func BenchmarkRequestAccounting(b *testing.B) {
	l := newLimitListener(nil, 2048, 64, nil)
	l.share.max = 2048 - 64
	s := &slot{l: l}
	s.state.Store(1)
	b.ReportAllocs()
	for b.Loop() {
		if !s.busy() || !l.share.enter() {
			b.Fatal("refused")
		}
		l.share.leave()
		s.idle()
	}
}
