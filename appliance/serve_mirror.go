package appliance

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/mirror"
	"github.com/provision/provision/registry"
)

// EventMirror is the kind of the event that says an archive's upstream
// failed (its System is "mirror").
const EventMirror = "mirror-upstream"

// mirrorErrorEvery bounds the events of one archive's failing upstream:
// one a minute, however many requests fail.
const mirrorErrorEvery = time.Minute

// openMirror makes the installers' package cache (package mirror) of the
// configured archives; nil when there are none.
func (a *Appliance) openMirror() (*mirror.Cache, error) {
	archives, err := a.cfg.mirrorArchives()
	if err != nil || len(archives) == 0 {
		return nil, err
	}
	size, _ := humanize.ParseBytes(a.cfg.MirrorSize) // checked by Config.Check
	ttl, _ := time.ParseDuration(a.cfg.MirrorIndexTTL)
	c, err := mirror.New(mirror.Config{Dir: a.cfg.MirrorDir, MaxBytes: int64(size), IndexTTL: ttl, Archives: archives,
		OnUpstreamError: a.mirrorFailed(), Log: a.log})
	if err != nil {
		return nil, fmt.Errorf("package cache: %w", err)
	}
	for _, arc := range archives {
		a.log.Info("package cache", "archive", "/"+arc.Name+"/", "upstream", arc.Upstream.String())
	}
	a.metrics.MustRegister(mirrorMetrics{c})
	return c, nil
}

// mountMirror serves the archives on mux, and says on the usual paths of
// the Debian archives that are not configured that there is no cache of
// them (rather than the API's 401).
func (a *Appliance) mountMirror(mux *http.ServeMux) {
	names := a.mirrorNames()
	caches := strings.Join(names, ", ")
	if caches == "" {
		caches = "none"
	}
	for _, name := range names {
		mux.Handle("/"+name+"/", a.mirror)
	}
	for _, name := range []string{"debian", "debian-security"} {
		if slices.Contains(names, name) {
			continue
		}
		mux.HandleFunc("/"+name+"/", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "provision: no package cache of /"+name+"/: give serve --mirror "+name+"=URL (this appliance caches "+caches+")", http.StatusNotFound)
		})
	}
}

// mirrorNames are the archives' names, for the templates' .URLs.Mirrors.
func (a *Appliance) mirrorNames() []string {
	if a.mirror == nil {
		return nil
	}
	var names []string
	for _, arc := range a.mirror.Archives() {
		names = append(names, arc.Name)
	}
	return names
}

// mirrorFailed records an event of a failed upstream fetch (package
// mirror logs each one), at most one a minute for each archive.
func (a *Appliance) mirrorFailed() func(archive, path string, err error) {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(archive, path string, err error) {
		mu.Lock()
		due := time.Since(last[archive]) >= mirrorErrorEvery
		if due {
			last[archive] = time.Now()
		}
		mu.Unlock()
		if due {
			a.events.Record(registry.Event{System: "mirror", Kind: EventMirror,
				Detail: fmt.Sprintf("archive %s: upstream failed for %s: %v (cached files are still served)", archive, path, err)})
		}
	}
}

// mirrorMetrics exports the cache's counters to /metrics, by archive.
type mirrorMetrics struct{ c *mirror.Cache }

var descMirror = map[string]*prometheus.Desc{
	"hits":          prometheus.NewDesc("provision_mirror_hits_total", "Package cache requests served from disk without a download, by archive.", []string{"archive"}, nil),
	"misses":        prometheus.NewDesc("provision_mirror_misses_total", "Package cache requests that needed a download from upstream, by archive.", []string{"archive"}, nil),
	"revalidations": prometheus.NewDesc("provision_mirror_revalidations_total", "Index files served from the cache after upstream answered 304, by archive.", []string{"archive"}, nil),
	"errors":        prometheus.NewDesc("provision_mirror_upstream_errors_total", "Upstream fetches that failed, by archive.", []string{"archive"}, nil),
	"evictions":     prometheus.NewDesc("provision_mirror_evictions_total", "Files removed to keep the cache within its size, by archive.", []string{"archive"}, nil),
	"upstream":      prometheus.NewDesc("provision_mirror_upstream_bytes_total", "Body bytes read from upstream, by archive.", []string{"archive"}, nil),
	"served":        prometheus.NewDesc("provision_mirror_served_bytes_total", "Body bytes served to clients, by archive.", []string{"archive"}, nil),
	"cached":        prometheus.NewDesc("provision_mirror_cached_bytes", "Bytes the cache holds on disk, by archive.", []string{"archive"}, nil),
	"files":         prometheus.NewDesc("provision_mirror_cached_files", "Files the cache holds on disk, by archive.", []string{"archive"}, nil),
}

func (m mirrorMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descMirror {
		ch <- d
	}
}

func (m mirrorMetrics) Collect(ch chan<- prometheus.Metric) {
	for name, s := range m.c.Stats() {
		for key, v := range map[string]int64{"hits": s.Hits, "misses": s.Misses, "revalidations": s.Revalidations, "errors": s.UpstreamErrors,
			"evictions": s.Evictions, "upstream": s.UpstreamBytes, "served": s.ServedBytes} {
			ch <- prometheus.MustNewConstMetric(descMirror[key], prometheus.CounterValue, float64(v), name)
		}
		ch <- prometheus.MustNewConstMetric(descMirror["cached"], prometheus.GaugeValue, float64(s.CachedBytes), name)
		ch <- prometheus.MustNewConstMetric(descMirror["files"], prometheus.GaugeValue, float64(s.CachedFiles), name)
	}
}
