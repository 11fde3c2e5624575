package mirror

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// upstreamServer is a fake archive that counts the requests for each path
// and keeps the headers and answers of the last one.
type upstreamServer struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int
	header map[string]http.Header
	status map[string][]int
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstreamServer {
	u := &upstreamServer{hits: map[string]int{}, header: map[string]http.Header{}, status: map[string][]int{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits[r.URL.Path]++
		u.header[r.URL.Path] = r.Header.Clone()
		u.mu.Unlock()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h(rec, r)
		u.mu.Lock()
		u.status[r.URL.Path] = append(u.status[r.URL.Path], rec.code)
		u.mu.Unlock()
	}))
	t.Cleanup(u.Close)
	return u
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (w *statusRecorder) WriteHeader(code int)        { w.code = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (u *upstreamServer) count(p string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[p]
}

func (u *upstreamServer) lastHeader(p string) http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.header[p]
}

func (u *upstreamServer) statuses(p string) []int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]int(nil), u.status[p]...)
}

// files serves fixed contents by path, 404 for the rest.
func files(m map[string][]byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, ok := m[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}
}

// testCache is a Cache with archive "debian" on upstream's /debian,
// served by an httptest server.
type testCache struct {
	*Cache
	srv *httptest.Server
	cfg Config
}

func newTestCache(t *testing.T, up *upstreamServer, tune ...func(*Config)) *testCache {
	t.Helper()
	a, err := ParseArchive(up.URL + "/debian")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: t.TempDir(), MaxBytes: 1 << 20, Archives: []Archive{a}}
	for _, f := range tune {
		f(&cfg)
	}
	return openTestCache(t, cfg)
}

func openTestCache(t *testing.T, cfg Config) *testCache {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(func() { srv.Close(); c.Close() })
	return &testCache{Cache: c, srv: srv, cfg: cfg}
}

// get asks the cache for p with headers "K: V"...; the body is what
// arrived before any error (status 0: no response at all).
func (tc *testCache) get(t *testing.T, method, p string, headers ...string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, tc.srv.URL+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := tc.srv.Client().Do(req)
	if err != nil {
		return &http.Response{StatusCode: 0, Header: http.Header{}}, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mustGet is get that wants a whole body with status code.
func (tc *testCache) mustGet(t *testing.T, p string, code int, headers ...string) []byte {
	t.Helper()
	resp, b, err := tc.get(t, http.MethodGet, p, headers...)
	if err != nil || resp.StatusCode != code {
		t.Fatalf("GET %s: %d %q, %v; want %d", p, resp.StatusCode, trim(b), err, code)
	}
	return b
}

func (tc *testCache) stats() Stats { return tc.Stats()["debian"] }

func trim(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// pattern is n recognisable bytes.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes %q..., want %d bytes %q...", what, len(got), trim(got), len(want), trim(want))
	}
}
