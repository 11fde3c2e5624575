package appliance

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provision/provision/internal/apitoken"
)

// get fetches url (with the admin token for /metrics) and returns the
// status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The appliance serves a configured archive at /NAME/ through its cache:
// a package is fetched from upstream once, then served from disk; the
// counters reach /metrics; with upstream gone, what is cached is still
// served and the rest gets 502 with the reason, and an event says so.
func TestMirrorServedCountedAndUpstreamDown(t *testing.T) {
	var fetches atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		io.WriteString(w, "deb of "+r.URL.Path)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := devConfig(t)
	cfg.Mirrors = []string{"deb=" + upstream.URL + "/debian"}
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(ctx)
	base := "http://" + a.Addrs().HTTP
	const pkg = "/deb/pool/main/h/hello/hello_2.10-3_amd64.deb"
	for range 2 {
		if code, body := get(t, base+pkg, ""); code != 200 || body != "deb of /debian/pool/main/h/hello/hello_2.10-3_amd64.deb" {
			t.Fatalf("GET %s: %d %q", pkg, code, body)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("upstream fetched %d times, want 1", n)
	}
	token, err := os.ReadFile(filepath.Join(a.cfg.Data, apitoken.FileName(apitoken.Admin)))
	if err != nil {
		t.Fatal(err)
	}
	_, metrics := get(t, base+"/metrics", strings.TrimSpace(string(token)))
	for _, want := range []string{`provision_mirror_hits_total{archive="deb"} 1`, `provision_mirror_misses_total{archive="deb"} 1`, `provision_mirror_cached_files{archive="deb"} 1`} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if code, body := get(t, base+"/debian/dists/bookworm/Release", ""); code != 404 || !strings.Contains(body, "no package cache of /debian/: give serve --mirror debian=URL") {
		t.Errorf("an archive not configured: %d %q", code, body)
	}

	upstream.Close()
	if code, _ := get(t, base+pkg, ""); code != 200 {
		t.Errorf("a cached package with upstream down: %d", code)
	}
	code, body := get(t, base+"/deb/pool/main/o/other/other_1_amd64.deb", "")
	if code != http.StatusBadGateway || !strings.Contains(body, "upstream") {
		t.Errorf("an uncached package with upstream down: %d %q", code, body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		evs, err := a.events.Events(ctx, "mirror", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 {
			if evs[0].Kind != EventMirror || !strings.Contains(evs[0].Detail, "archive deb: upstream failed for pool/main/o/other/other_1_amd64.deb") {
				t.Errorf("event %+v", evs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event of the upstream's failure")
		}
	}
}

// --mirror is checked before anything opens; none turns the cache off.
func TestMirrorConfig(t *testing.T) {
	for _, c := range []struct {
		mirrors []string
		size    string
		ok      bool
	}{
		{[]string{"http://deb.debian.org/debian"}, "", true},
		{[]string{"none"}, "", true},
		{[]string{"ftp://deb.debian.org/debian"}, "", false},
		{[]string{"http://a/debian", "http://b/debian"}, "", false}, // debian twice
		{[]string{"http://a/debian"}, "lots", false},
	} {
		cfg := devConfig(t)
		cfg.Mirrors, cfg.MirrorSize = c.mirrors, c.size
		err := cfg.Complete()
		if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%v %q: %v, want ok=%v", c.mirrors, c.size, err, c.ok)
		}
	}
	cfg := devConfig(t)
	cfg.Mirrors = []string{"none"}
	if archives, err := cfg.mirrorArchives(); err != nil || archives != nil {
		t.Errorf("none: %v %v", archives, err)
	}
}
