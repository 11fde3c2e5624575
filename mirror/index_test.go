package mirror

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

const inRelease = "/debian/dists/bookworm/InRelease"

// etagged serves an InRelease whose ETag follows its version, answering
// If-None-Match with 304.
func etagged(version *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := version.Load()
		tag := fmt.Sprintf(`"v%d"`, v)
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, "release %d", v)
	}
}

func TestIndexRevalidation(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	up := newUpstream(t, etagged(&version))
	tc := newTestCache(t, up)

	if b := tc.mustGet(t, "/dists/bookworm/InRelease", 404); len(b) == 0 {
		t.Error("a path without archive got an empty 404")
	}
	sameBytes(t, "first", tc.mustGet(t, inRelease, 200, "Authorization", "Basic eDp5", "Cookie", "a=b"), []byte("release 1"))
	h := up.lastHeader(inRelease)
	if h.Get("If-None-Match") != "" || h.Get("Authorization") != "" || h.Get("Cookie") != "" {
		t.Errorf("first upstream request sent If-None-Match %q, Authorization %q, Cookie %q",
			h.Get("If-None-Match"), h.Get("Authorization"), h.Get("Cookie"))
	}
	if h.Get("User-Agent") != userAgent || h.Get("Via") == "" {
		t.Errorf("upstream saw User-Agent %q, Via %q", h.Get("User-Agent"), h.Get("Via"))
	}
	sameBytes(t, "revalidated", tc.mustGet(t, inRelease, 200), []byte("release 1"))
	if got := up.lastHeader(inRelease).Get("If-None-Match"); got != `"v1"` {
		t.Errorf("second upstream request: If-None-Match %q, want \"v1\"", got)
	}
	if got := up.statuses(inRelease); !slices.Equal(got, []int{200, 304}) {
		t.Errorf("upstream answered %v, want [200 304]", got)
	}
	version.Store(2)
	sameBytes(t, "changed", tc.mustGet(t, inRelease, 200), []byte("release 2"))
	if s := tc.stats(); s.Revalidations != 1 || s.Misses != 2 {
		t.Errorf("stats %+v, want 1 revalidation and 2 misses", s)
	}
}

// undated serves files with neither validators nor freshness, dated as
// the test says: a file's age decides whether IndexTTL still covers it.
func undated(age map[string]time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(-age[r.URL.Path]).UTC().Format(http.TimeFormat))
		w.Write([]byte("index " + r.URL.Path))
	}
}

func TestIndexHeuristicTTL(t *testing.T) {
	const young, old = "/debian/dists/bookworm/main/binary-amd64/Packages.xz", "/debian/dists/bookworm/Release"
	for _, tt := range []struct {
		ttl              time.Duration
		youngN, oldN     int
		wantCacheControl string
	}{
		{ttl: time.Hour, youngN: 1, oldN: 2, wantCacheControl: "max-age=3600"},
		{ttl: 0, youngN: 2, oldN: 2},
	} {
		t.Run("ttl="+tt.ttl.String(), func(t *testing.T) {
			up := newUpstream(t, undated(map[string]time.Duration{young: 0, old: 2 * time.Hour}))
			tc := newTestCache(t, up, func(c *Config) { c.IndexTTL = tt.ttl })
			for range 2 {
				for _, p := range []string{young, old} {
					sameBytes(t, p, tc.mustGet(t, p, 200), []byte("index "+p))
				}
			}
			if y, o := up.count(young), up.count(old); y != tt.youngN || o != tt.oldN {
				t.Errorf("upstream fetched the young file %d times, the old one %d; want %d, %d", y, o, tt.youngN, tt.oldN)
			}
			resp, _, _ := tc.get(t, http.MethodGet, young)
			if got := resp.Header.Get("Cache-Control"); got != tt.wantCacheControl {
				t.Errorf("Cache-Control %q, want %q", got, tt.wantCacheControl)
			}
		})
	}
}

func TestIndexHeuristicLeavesValidatedAlone(t *testing.T) {
	var version atomic.Int64
	up := newUpstream(t, etagged(&version))
	tc := newTestCache(t, up, func(c *Config) { c.IndexTTL = time.Hour })
	tc.mustGet(t, inRelease, 200)
	tc.mustGet(t, inRelease, 200)
	if n := up.count(inRelease); n != 2 {
		t.Errorf("a file with an ETag was asked %d times, want 2 (revalidated each time)", n)
	}
}

func TestIndexClientRangeNeverDropsTheCopy(t *testing.T) {
	var version atomic.Int64
	up := newUpstream(t, etagged(&version))
	tc := newTestCache(t, up)
	tc.mustGet(t, inRelease, 200)
	tc.mustGet(t, inRelease, 200, "Range", "bytes=0-3", "Cache-Control", "no-store")
	up.Close()
	sameBytes(t, "after a Range, upstream down", tc.mustGet(t, inRelease, 200), []byte("release 0"))
	if s := tc.stats(); s.CachedFiles != 1 {
		t.Errorf("cached files %d, want 1", s.CachedFiles)
	}
}

func TestIndexTruncatedNeverCached(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(1000))
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(pattern(1, 500))
	})
	tc := newTestCache(t, up)
	for i := range 2 {
		resp, b, err := tc.get(t, http.MethodGet, inRelease)
		if err == nil && len(b) == 1000 {
			t.Fatalf("request %d: status %d, a whole body from a truncated upstream", i, resp.StatusCode)
		}
	}
	if n := up.count(inRelease); n != 2 {
		t.Errorf("upstream asked %d times, want 2 (a truncated body is never cached)", n)
	}
	if s := tc.stats(); s.CachedFiles != 0 || s.UpstreamErrors != 2 {
		t.Errorf("stats %+v, want nothing cached and 2 upstream errors", s)
	}
}
