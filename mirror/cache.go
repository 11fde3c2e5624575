package mirror

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gregjones/httpcache"
	"golang.org/x/sync/singleflight"

	"github.com/provision/provision/internal/httpserve"
)

// Cache is the pull-through cache of every configured archive; it serves
// /NAME/PATH.
type Cache struct {
	archives map[string]*archive // fixed by New
	order    []Archive
	disk     *disk
}

// archive is one Archive's serving state.
type archive struct {
	Archive
	stats   counters
	disk    *disk
	up      *upstream          // pool downloads and pass-through
	index   http.Handler       // reverse proxy over httpcache
	direct  http.Handler       // reverse proxy, nothing cached
	flight  singleflight.Group // one download per pool file
	maxFile int64              // bigger files are passed through
	idle    time.Duration      // a download's patience with upstream
}

// New opens the cache in cfg.Dir: it accounts the files already there
// (least recently used by mtime), evicts down to MaxBytes and removes the
// temporary files of an earlier run.
func New(cfg Config) (*Cache, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("mirror cache %s: %w", cfg.Dir, err)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("mirror cache %s: %w", cfg.Dir, err)
	}
	c := &Cache{archives: map[string]*archive{}}
	c.disk = newDisk(root, cfg.MaxBytes, c.counters)
	for _, a := range cfg.Archives {
		c.archives[a.Name] = newArchive(a, cfg, c.disk)
		c.order = append(c.order, a)
	}
	if err := c.disk.rebuild(); err != nil {
		root.Close()
		return nil, fmt.Errorf("mirror cache %s: reading what it holds: %w", cfg.Dir, err)
	}
	return c, nil
}

func newArchive(arc Archive, cfg Config, d *disk) *archive {
	a := &archive{Archive: arc, disk: d, maxFile: cfg.MaxBytes / 4, idle: downloadIdle}
	up := func(ttl time.Duration) *upstream {
		return &upstream{archive: a.Name, prefix: a.Upstream.Path + "/", next: cfg.Transport,
			ttl: ttl, stats: &a.stats, log: cfg.Log, report: cfg.OnUpstreamError}
	}
	a.up = up(0)
	store := indexStore{name: a.Name, disk: d, maxFile: a.maxFile}
	cached := &httpcache.Transport{Transport: up(cfg.IndexTTL), Cache: store, MarkCachedResponses: true}
	a.index = a.newProxy(cached, true, cfg.Log)
	a.direct = a.newProxy(a.up, false, cfg.Log)
	return a
}

func (c *Cache) counters(name string) *counters {
	if a, ok := c.archives[name]; ok {
		return &a.stats
	}
	return nil
}

// ServeHTTP serves /NAME/PATH for every archive: GET and HEAD only.
func (c *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	a, ok := c.archives[name]
	if !ok {
		http.Error(w, fmt.Sprintf("mirror: no archive %q", name), http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, fmt.Sprintf("mirror %s: method %s not allowed", name, r.Method), http.StatusMethodNotAllowed)
		return
	}
	p, err := cleanPath(rest)
	if err != nil {
		http.Error(w, fmt.Sprintf("mirror %s: %v", name, err), http.StatusBadRequest)
		return
	}
	rec := &httpserve.Recorder{ResponseWriter: w}
	defer func() { a.stats.servedBytes.Add(rec.Bytes()) }()
	if immutable(p) {
		a.serveFile(rec, r, p)
	} else {
		a.serveIndex(rec, r, p)
	}
}

// Stats are the counters of each archive, by name.
func (c *Cache) Stats() map[string]Stats {
	out := make(map[string]Stats, len(c.archives))
	for name, a := range c.archives {
		out[name] = a.stats.snapshot()
	}
	return out
}

// Archives are the configured archives, in order.
func (c *Cache) Archives() []Archive { return append([]Archive(nil), c.order...) }

// Paths are "/NAME/" for each archive, to mount on a mux.
func (c *Cache) Paths() []string {
	out := make([]string, len(c.order))
	for i, a := range c.order {
		out[i] = "/" + a.Name + "/"
	}
	return out
}

// Close releases the cache directory; ServeHTTP must not be running.
func (c *Cache) Close() error { return c.disk.root.Close() }
