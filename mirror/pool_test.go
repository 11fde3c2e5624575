package mirror

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const debPath = "/debian/pool/main/h/hello/hello_2.10-3_amd64.deb"

func TestPoolRange(t *testing.T) {
	body := pattern(7, 100_000)
	up := newUpstream(t, files(map[string][]byte{debPath: body, "/debian/pool/main/b/big.deb": body}))
	tc := newTestCache(t, up)

	sameBytes(t, "miss", tc.mustGet(t, debPath, 200), body)
	sameBytes(t, "cached range", tc.mustGet(t, debPath, 206, "Range", "bytes=1000-1999"), body[1000:2000])
	sameBytes(t, "cached suffix", tc.mustGet(t, debPath, 206, "Range", "bytes=-10"), body[len(body)-10:])
	sameBytes(t, "range on a miss", tc.mustGet(t, "/debian/pool/main/b/big.deb", 206, "Range", "bytes=50000-50099"), body[50000:50100])
	sameBytes(t, "hit after a range miss", tc.mustGet(t, "/debian/pool/main/b/big.deb", 200), body)
	for _, p := range []string{debPath, "/debian/pool/main/b/big.deb"} {
		if n := up.count(p); n != 1 {
			t.Errorf("%s fetched %d times from upstream, want 1", p, n)
		}
	}
	resp, b, err := tc.get(t, http.MethodHead, debPath)
	if err != nil || resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %d, %v", resp.StatusCode, len(b), resp.ContentLength, err)
	}
	served := int64(2*len(body) + 1000 + 10 + 100)
	if s := tc.stats(); s.Hits != 4 || s.Misses != 2 || s.UpstreamBytes != 2*int64(len(body)) || s.ServedBytes != served {
		t.Errorf("stats %+v, want 4 hits, 2 misses, %d upstream bytes, %d served", s, 2*len(body), served)
	}
}

func TestPoolEviction(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write(pattern(r.URL.Path[len(r.URL.Path)-5], 1000)) })
	tc := newTestCache(t, up, func(c *Config) { c.MaxBytes = 4000 })
	deb := func(name string) string { return "/debian/pool/main/" + name + ".deb" }
	for _, n := range []string{"a", "b", "c", "d"} {
		tc.mustGet(t, deb(n), 200)
	}
	tc.mustGet(t, deb("a"), 200) // a is now the most recently used
	tc.mustGet(t, deb("e"), 200) // over the bound: b goes
	onDisk := func(dir string) []string {
		var names []string
		filepath.WalkDir(filepath.Join(dir, "debian"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, filepath.Base(p))
			}
			return nil
		})
		return names
	}
	if got := strings.Join(onDisk(tc.cfg.Dir), " "); got != "a.deb c.deb d.deb e.deb" {
		t.Errorf("on disk: %s, want a c d e", got)
	}
	if s := tc.stats(); s.Evictions != 1 || s.CachedBytes != 4000 || s.CachedFiles != 4 {
		t.Errorf("stats %+v, want 1 eviction, 4 files of 4000 bytes", s)
	}
	tc.mustGet(t, deb("b"), 200)
	if n := up.count(deb("b")); n != 2 {
		t.Errorf("evicted b fetched %d times, want 2", n)
	}

	// Reopened with a smaller bound: the least recently used go first
	// (c, d went before a, e and b), by mtime.
	cfg := tc.cfg
	cfg.MaxBytes = 3000
	again := openTestCache(t, cfg)
	if got := strings.Join(onDisk(cfg.Dir), " "); got != "a.deb b.deb e.deb" {
		t.Errorf("after New: on disk %s, want a b e", got)
	}
	if s := again.stats(); s.CachedBytes != 3000 || s.CachedFiles != 3 {
		t.Errorf("after New: stats %+v, want 3 files of 3000 bytes", s)
	}
	again.mustGet(t, deb("a"), 200)
	if n := up.count(deb("a")); n != 1 {
		t.Errorf("a, kept by New, fetched %d times, want 1", n)
	}
}

// gated serves body in two halves, the second once gate is closed.
func gated(body []byte, gate chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:len(body)/2])
		http.NewResponseController(w).Flush()
		<-gate
		w.Write(body[len(body)/2:])
	}
}

func TestPoolConcurrentFetchOnce(t *testing.T) {
	body := pattern(3, 300_000)
	gate := make(chan struct{})
	up := newUpstream(t, gated(body, gate))
	tc := newTestCache(t, up, func(c *Config) { c.MaxBytes = 10 << 20 })
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // before the servers close, should the test fail first
	var wg sync.WaitGroup
	got := make([][]byte, 20)
	for i := range got {
		wg.Go(func() { got[i] = tc.mustGet(t, debPath, 200) })
	}
	for deadline := time.Now().Add(10 * time.Second); tc.stats().Misses < 20 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // until all 20 are in
	}
	release()
	wg.Wait()
	for i, b := range got {
		sameBytes(t, "client "+strconv.Itoa(i), b, body)
	}
	if n := up.count(debPath); n != 1 {
		t.Errorf("upstream asked %d times for one file, want 1", n)
	}
}

func TestPoolLeaderGoesAway(t *testing.T) {
	body := pattern(5, 1_000_000)
	gate := make(chan struct{})
	up := newUpstream(t, gated(body, gate))
	tc := newTestCache(t, up, func(c *Config) { c.MaxBytes = 10 << 20 })
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // before the servers close, should the test fail first

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tc.srv.URL+debPath, nil)
	resp, err := tc.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatalf("the first client read nothing: %v", err)
	}
	cancel()
	resp.Body.Close()
	release()
	sameBytes(t, "second client", tc.mustGet(t, debPath, 200), body)
	b, err := os.ReadFile(filepath.Join(tc.cfg.Dir, debPath))
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "cached file", b, body)
	if n := up.count(debPath); n != 1 {
		t.Errorf("upstream asked %d times, want 1", n)
	}
}

func TestPoolTruncatedNeverCached(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(pattern(1, 50_000))
	})
	tc := newTestCache(t, up)
	for i := range 2 {
		for _, h := range [][]string{nil, {"Range", "bytes=0-9"}} {
			resp, b, err := tc.get(t, http.MethodGet, debPath, h...)
			if err == nil && resp.StatusCode/100 == 2 {
				t.Errorf("request %d %v: %d with %d bytes, no error from a truncated upstream", i, h, resp.StatusCode, len(b))
			}
		}
	}
	if n := up.count(debPath); n != 4 {
		t.Errorf("upstream asked %d times, want 4 (a truncated body is never cached)", n)
	}
	left, _ := os.ReadDir(tc.cfg.Dir)
	if s := tc.stats(); s.CachedFiles != 0 || len(left) != 0 {
		t.Errorf("cached %d files, Dir holds %v; want nothing", s.CachedFiles, left)
	}
}

func TestPoolTooBigPassedThrough(t *testing.T) {
	body := pattern(9, 300_000)
	up := newUpstream(t, files(map[string][]byte{debPath: body}))
	tc := newTestCache(t, up, func(c *Config) { c.MaxBytes = 1_000_000 })
	for range 2 {
		sameBytes(t, "big", tc.mustGet(t, debPath, 200), body)
	}
	sameBytes(t, "big range", tc.mustGet(t, debPath, 206, "Range", "bytes=10-19"), body[10:20])
	if n, s := up.count(debPath), tc.stats(); n != 4 || s.CachedFiles != 0 {
		t.Errorf("upstream asked %d times (want 4: each GET once, the Range once to learn the size and once for the range), %d cached", n, s.CachedFiles)
	}
}

func TestUpstreamDown(t *testing.T) {
	body := pattern(2, 10_000)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "InRelease") {
			w.Header().Set("ETag", `"1"`)
		}
		w.Write(body)
	})
	var mu sync.Mutex
	var reported []string
	tc := newTestCache(t, up, func(c *Config) {
		c.OnUpstreamError = func(archive, path string, err error) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, archive+" "+path+": "+err.Error())
		}
	})
	tc.mustGet(t, debPath, 200)
	tc.mustGet(t, inRelease, 200)
	up.Close()
	sameBytes(t, "cached pool file", tc.mustGet(t, debPath, 200), body)
	sameBytes(t, "cached index", tc.mustGet(t, inRelease, 200), body)
	for _, p := range []string{"/debian/pool/main/x.deb", "/debian/dists/trixie/InRelease"} {
		b := string(tc.mustGet(t, p, 502))
		if !strings.HasPrefix(b, "mirror debian: upstream "+up.URL+p+": ") || !strings.Contains(b, "refused") {
			t.Errorf("%s: 502 %q, want the archive, the upstream URL and the reason", p, b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 3 || !strings.HasPrefix(reported[0], "debian dists/bookworm/InRelease: ") ||
		!strings.HasPrefix(reported[1], "debian pool/main/x.deb: ") || !strings.HasPrefix(reported[2], "debian dists/trixie/InRelease: ") {
		t.Errorf("OnUpstreamError calls: %q", reported)
	}
	if s := tc.stats(); s.UpstreamErrors != 3 || s.CachedFiles != 2 {
		t.Errorf("stats %+v, want 3 upstream errors and 2 files still cached", s)
	}
}

func TestUpstreamStatuses(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "gone"):
			w.WriteHeader(http.StatusGone)
		case strings.Contains(r.URL.Path, "fail"):
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	})
	tc := newTestCache(t, up)
	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{"/debian/pool/main/missing.deb", 404, "mirror debian: pool/main/missing.deb: upstream says 404 Not Found"},
		{"/debian/pool/main/gone.deb", 410, "mirror debian: pool/main/gone.deb: upstream says 410 Gone"},
		{"/debian/pool/main/fail.deb", 502, "mirror debian: upstream " + up.URL + "/debian/pool/main/fail.deb: 503 Service Unavailable"},
		{"/debian/dists/fail/Release", 502, "mirror debian: upstream " + up.URL + "/debian/dists/fail/Release: 503 Service Unavailable"},
		{"/debian/dists/missing/Release", 404, "404 page not found"},
	} {
		if got := strings.TrimSpace(string(tc.mustGet(t, tt.path, tt.code))); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.path, got, tt.want)
		}
	}
	if s := tc.stats(); s.CachedFiles != 1 || s.UpstreamErrors != 2 { // httpcache keeps the index 404, stale
		t.Errorf("stats %+v, want 1 file cached (the index 404) and 2 upstream errors", s)
	}
}

func TestRequestsRefused(t *testing.T) {
	up := newUpstream(t, files(nil))
	tc := newTestCache(t, up)
	for _, tt := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/debian/pool/../../etc/passwd", 400, `mirror debian: path "pool/../../etc/passwd": ".."`},
		{"GET", "/debian/..", 400, `".."`},
		{"GET", "/debian/pool/a%00.deb", 400, `control character`},
		{"GET", "/debian/pool/a%0a.deb", 400, `control character`},
		{"GET", "/debian/pool/a%5c..%5cb.deb", 400, `backslash`},
		{"POST", "/debian/pool/a.deb", 405, "mirror debian: method POST not allowed"},
		{"DELETE", "/debian/dists/x/Release", 405, "not allowed"},
		{"GET", "/ubuntu/dists/x/Release", 404, `mirror: no archive "ubuntu"`},
	} {
		resp, b, err := tc.get(t, tt.method, tt.path)
		if err != nil || resp.StatusCode != tt.code || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s %s: %d %q %v, want %d %q", tt.method, tt.path, resp.StatusCode, b, err, tt.code, tt.want)
		}
	}
	if len(up.hits) != 0 {
		t.Errorf("refused requests reached upstream: %v", up.hits)
	}
}

func TestSymlinkOutOfDir(t *testing.T) {
	up := newUpstream(t, files(map[string][]byte{"/debian/pool/main/x.deb": []byte("real")}))
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "x.deb"), []byte("secret"), 0o600)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "debian/pool"), 0o750)
	if err := os.Symlink(outside, filepath.Join(dir, "debian/pool/main")); err != nil {
		t.Fatal(err)
	}
	tc := newTestCache(t, up, func(c *Config) { c.Dir = dir })
	resp, b, _ := tc.get(t, http.MethodGet, "/debian/pool/main/x.deb", "Range", "bytes=0-3")
	if string(b) == "secret" || resp.StatusCode != 500 {
		t.Errorf("through a symlink out of Dir: %d %q, want 500", resp.StatusCode, b)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "x.deb")); string(got) != "secret" {
		t.Errorf("the file outside Dir now holds %q", got)
	}
}

func TestNewRemovesTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, tempPrefix+"crashed"), []byte("half"), 0o640)
	up := newUpstream(t, files(nil))
	tc := newTestCache(t, up, func(c *Config) { c.Dir = dir })
	if _, err := os.Stat(filepath.Join(dir, tempPrefix+"crashed")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover temporary file: %v", err)
	}
	if s := tc.stats(); s.CachedFiles != 0 {
		t.Errorf("stats %+v, want nothing cached", s)
	}
}

func TestPoolStalledUpstream(t *testing.T) {
	gate := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "mid") {
			w.Header().Set("Content-Length", "100000")
			w.Write(pattern(1, 50_000))
			http.NewResponseController(w).Flush()
		}
		<-gate
	})
	t.Cleanup(func() { close(gate) })
	var reported []string
	var mu sync.Mutex
	tc := newTestCache(t, up, func(c *Config) {
		c.OnUpstreamError = func(_, path string, err error) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, path+": "+err.Error())
		}
	})
	tc.archives["debian"].idle = 50 * time.Millisecond
	resp, _, err := tc.get(t, http.MethodGet, "/debian/pool/mid.deb")
	if err == nil {
		t.Errorf("a body upstream stopped sending mid-way: %d, no error", resp.StatusCode)
	}
	b := tc.mustGet(t, "/debian/pool/headers.deb", 502, "Range", "bytes=0-1")
	if !strings.HasSuffix(strings.TrimSpace(string(b)), "/debian/pool/headers.deb: nothing from upstream for 50ms") {
		t.Errorf("stalled before its headers: %q", b)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"pool/mid.deb: nothing from upstream for 50ms", "pool/headers.deb: nothing from upstream for 50ms"}; !slices.Equal(reported, want) {
		t.Errorf("OnUpstreamError calls %q, want %q", reported, want)
	}
	if s := tc.stats(); s.CachedFiles != 0 {
		t.Errorf("stats %+v, want nothing cached", s)
	}
}

func TestPoolFileRemovedFromUnderTheCache(t *testing.T) {
	up := newUpstream(t, files(map[string][]byte{debPath: []byte("deb")}))
	tc := newTestCache(t, up)
	tc.mustGet(t, debPath, 200)
	if err := os.Remove(filepath.Join(tc.cfg.Dir, debPath)); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "fetched again", tc.mustGet(t, debPath, 200), []byte("deb"))
	if n := up.count(debPath); n != 2 {
		t.Errorf("upstream asked %d times, want 2", n)
	}
}
