package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"

	"github.com/gregjones/httpcache"
)

// serveIndex passes an index file (Release, InRelease, Packages.xz,
// repomd.xml, installer files...) through untouched: httpcache below the
// reverse proxy keeps a copy, revalidates it (If-None-Match,
// If-Modified-Since, 304) and serves it while upstream fails.
func (a *archive) serveIndex(w http.ResponseWriter, r *http.Request, p string) {
	a.index.ServeHTTP(w, r.WithContext(withExchange(r.Context(), &exchange{path: p})))
}

// serveDirect passes a file through without caching it (one too big for
// the cache), Range included.
func (a *archive) serveDirect(w http.ResponseWriter, r *http.Request, p string) {
	a.direct.ServeHTTP(w, r.WithContext(withExchange(r.Context(), &exchange{path: p})))
}

// newProxy is a reverse proxy to the archive's upstream over rt; an index
// proxy sends no client conditionals or ranges (httpcache sets its own
// validators; a Range would make it drop its copy) and asks for
// stale-if-error, so that a failing upstream leaves the copy in use.
func (a *archive) newProxy(rt http.RoundTripper, index bool, log *slog.Logger) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = a.fileURL(exchangeOf(pr.Out.Context()).path)
			pr.Out.Host = ""
			upstreamHeaders(pr.Out.Header)
			if index {
				indexHeaders(pr.Out.Header)
			}
		},
		Transport:      rt,
		ModifyResponse: func(resp *http.Response) error { return a.classify(resp, index) },
		ErrorHandler:   a.proxyError,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// indexHeaders replaces the client's caching directives with ours: apt
// sends "Cache-Control: max-age=0" for every index, which would defeat
// IndexTTL; the cache's freshness is the appliance's policy.
func indexHeaders(h http.Header) {
	for _, k := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "Pragma"} {
		h.Del(k)
	}
	h.Set("Cache-Control", "stale-if-error")
}

// classify counts a proxied response and turns an upstream 5xx that no
// cached copy answered into a 502.
func (a *archive) classify(resp *http.Response, index bool) error {
	fromCache := resp.Header.Get(httpcache.XFromCache) != ""
	switch ex := exchangeOf(resp.Request.Context()); {
	case !fromCache && resp.StatusCode >= 500:
		return errors.New(resp.Status)
	case !index:
	case fromCache && ex != nil && ex.status == http.StatusNotModified:
		a.stats.revalidations.Add(1)
	case fromCache:
		a.stats.hits.Add(1)
	default:
		a.stats.misses.Add(1)
	}
	return nil
}

// proxyError answers 502 naming the archive, the upstream URL and the
// reason (the failure was counted and reported by upstream).
func (a *archive) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	u := a.fileURL(exchangeOf(r.Context()).path)
	http.Error(w, fmt.Sprintf("mirror %s: upstream %s: %v", a.Name, u, err), http.StatusBadGateway)
}

// indexDir holds httpcache's copies: .index/NAME/<sha256 of the key>.
const indexDir = ".index"

// indexStore is the httpcache.Cache of one archive: files in Dir, written
// atomically and counted in the same LRU as pool files.
type indexStore struct {
	name    string
	disk    *disk
	maxFile int64
}

func (s indexStore) key(k string) string {
	sum := sha256.Sum256([]byte(k))
	return indexDir + "/" + s.name + "/" + hex.EncodeToString(sum[:])
}

func (s indexStore) Get(k string) ([]byte, bool) {
	key := s.key(k)
	if !s.disk.touch(key) {
		return nil, false
	}
	b, err := s.disk.root.ReadFile(key)
	return b, err == nil
}

func (s indexStore) Set(k string, b []byte) {
	if int64(len(b)) > s.maxFile {
		s.Delete(k)
		return
	}
	s.disk.write(s.key(k), entry{s.name, int64(len(b))}, b)
}

func (s indexStore) Delete(k string) { s.disk.remove(s.key(k)) }
