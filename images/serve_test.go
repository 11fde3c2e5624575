package images

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/internal/testenv"
)

// bootServer serves the fixture as the appliance does: a mux sending
// BootPaths to the boot handler, everything else to a handler of its own,
// through httpserve; with its fast path (the boot handler as Config.Fast,
// its requests counted in fast) or through net/http alone.
type bootServer struct {
	url    string
	events *eventLog
	fast   atomic.Int64
}

func startBootServer(t testing.TB, f *fixture, fast bool) *bootServer {
	t.Helper()
	s := &bootServer{events: &eventLog{}}
	boot, err := BootHandler(BootConfig{Hosts: f.hosts, Blobs: f.store, OnEvent: s.events.report})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "other %s %s %s\n", r.Method, r.URL.Path, r.Proto)
	})
	for _, p := range BootPaths() {
		mux.Handle(p, boot)
	}
	cfg := httpserve.Config{Handler: mux}
	if fast {
		cfg.Fast = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.fast.Add(1); boot.ServeHTTP(w, r) })
		cfg.FastPaths = BootPaths()
	}
	s.url = "http://" + serveOn(t, httpserve.New(cfg))
	return s
}

// serveOn serves srv on a new loopback port until the test ends; it
// returns the address.
func serveOn(t testing.TB, srv *httpserve.Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, l) })
	return l.Addr().String()
}

// eventSummary is an event as compared: no times.
func eventSummary(evs []BootEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s %s host=%s mac=%s kind=%s status=%d bytes=%d err=%v step=%s",
			e.Method, e.Path, e.Client, e.Host, e.MAC, e.Kind, e.Status, e.Bytes, e.Err != nil, e.Step))
	}
	return out
}

// TestBootFastPath sends the same requests to the boot routes through
// httpserve's fast path and through net/http alone: the fast path answers
// them all, its answers are net/http's, and so are the boot events.
// (internal/httpserve compares the two on the wire, request by request.)
func TestBootFastPath(t *testing.T) {
	f := newFixture(t)
	local := web01
	local.Name = "local01"
	f.hosts.add("127.0.0.1", local)
	tiny := f.addImage(t, "tiny", KindKernel, randomBytes(12, 4096))
	fast, slow := startBootServer(t, f, true), startBootServer(t, f, false)
	k := f.digest[KindKernel]
	tests := []struct {
		name, method, path string
		hdr                []string
	}{
		{"script by IP", "GET", "/boot.ipxe", nil},
		{"script HEAD", "HEAD", "/boot.ipxe", nil},
		{"script by MAC", "GET", "/boot/52:54:00:aa:bb:01.ipxe", nil},
		{"script by MAC, netboot off", "GET", "/boot/52-54-00-aa-bb-02.ipxe", nil},
		{"unknown MAC", "GET", "/boot/00:00:5e:00:53:01.ipxe", nil},
		{"malformed MAC", "GET", "/boot/zz.ipxe", nil},
		{"not .ipxe", "GET", "/boot/event", nil},
		{"kernel", "GET", "/images/centos9/kernel", nil},
		{"kernel HEAD", "HEAD", "/images/centos9/kernel", nil},
		{"initrd", "GET", "/images/centos9/initrd", nil},
		{"rootfs", "GET", "/images/centos9/rootfs", nil},
		{"sums", "GET", "/images/centos9/SHA256SUMS", nil},
		{"small file", "GET", "/images/tiny/kernel", nil},
		{"small file HEAD", "HEAD", "/images/tiny/kernel", nil},
		{"small file range", "GET", "/images/tiny/kernel", []string{"Range", "bytes=10-20"}},
		{"small file if-none-match", "GET", "/images/tiny/kernel", []string{"If-None-Match", `"` + tiny + `"`}},
		{"range", "GET", "/images/centos9/kernel", []string{"Range", "bytes=100-199"}},
		{"multi range", "GET", "/images/centos9/kernel", []string{"Range", "bytes=0-10,20-30"}},
		{"bad range", "GET", "/images/centos9/kernel", []string{"Range", "bytes=99999999-"}},
		{"if-none-match", "GET", "/images/centos9/kernel", []string{"If-None-Match", `"` + k + `"`}},
		{"if-modified-since", "GET", "/images/centos9/kernel", []string{"If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}},
		{"if-match fails", "GET", "/images/centos9/kernel", []string{"If-Match", `"x"`}},
		{"sums 304", "GET", "/images/centos9/SHA256SUMS", []string{"If-None-Match", "*"}},
		{"unknown image", "GET", "/images/nope/kernel", nil},
		{"unknown file", "GET", "/images/centos9/nope", nil},
		{"images root", "GET", "/images/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fetch(t, slow.url, tt.method, tt.path, tt.hdr...)
			fast.fast.Store(0)
			got := fetch(t, fast.url, tt.method, tt.path, tt.hdr...)
			if n := fast.fast.Load(); n != 1 {
				t.Errorf("%d requests on the fast path, want 1", n)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the fast path answers otherwise than net/http (-net/http +fast):\n%s", diff)
			}
			time.Sleep(20 * time.Millisecond) // the event of the request
			we, ge := eventSummary(slow.events.take()), eventSummary(fast.events.take())
			if diff := cmp.Diff(we, ge); diff != "" {
				t.Errorf("events (-net/http +fast):\n%s", diff)
			}
		})
	}
}

// fetch sends one request to base with headers hdr (name, value...), on a
// connection of its own, and describes the answer: status, headers but
// Date, body (the server's address and a multipart boundary, which is
// random, replaced).
func fetch(t *testing.T, base, method, path string, hdr ...string) string {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	ctype := h.Get("Content-Type")
	if _, b, ok := strings.Cut(ctype, "boundary="); ok {
		body = []byte(strings.ReplaceAll(string(body), b, "BOUNDARY"))
		h.Set("Content-Type", strings.ReplaceAll(ctype, b, "BOUNDARY"))
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%s %s\n", resp.Proto, resp.Status)
	h.Write(&out)
	fmt.Fprintf(&out, "length %d, chunked %v\n\n%q", resp.ContentLength, len(resp.TransferEncoding) > 0, body)
	return strings.ReplaceAll(out.String(), strings.TrimPrefix(base, "http://"), "ADDR")
}
