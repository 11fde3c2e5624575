package mirror

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config is what New needs.
type Config struct {
	Dir       string        // the cache directory (made 0750 if missing)
	MaxBytes  int64         // bound on the bytes cached on disk; least recently used evicted
	IndexTTL  time.Duration // heuristic freshness of an index file whose upstream response has no validators and no Cache-Control/Expires (RFC 9111 4.2.2); 0 = always fetch again
	Archives  []Archive
	Transport http.RoundTripper // to upstream; nil = a clone of http.DefaultTransport with dial 10 s, response headers 60 s
	// OnUpstreamError is called for each failed upstream fetch (the caller
	// rate-limits it and records an event). May be nil.
	OnUpstreamError func(archive, path string, err error)
	Log             *slog.Logger // nil = discard
}

// check refuses a Config New cannot work with.
func (cfg Config) check() error {
	if cfg.Dir == "" {
		return errors.New("mirror: no cache directory")
	}
	if cfg.MaxBytes <= 0 {
		return fmt.Errorf("mirror %s: MaxBytes %d is not positive", cfg.Dir, cfg.MaxBytes)
	}
	if len(cfg.Archives) == 0 {
		return fmt.Errorf("mirror %s: no archives", cfg.Dir)
	}
	seen := map[string]bool{}
	for _, a := range cfg.Archives {
		if !validName.MatchString(a.Name) || a.Upstream == nil {
			return fmt.Errorf("mirror: archive %q: bad name or no upstream", a.Name)
		}
		if seen[a.Name] {
			return fmt.Errorf("mirror: archive %q configured twice", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// withDefaults fills the optional fields.
func (cfg Config) withDefaults() Config {
	if cfg.Transport == nil {
		cfg.Transport = defaultTransport()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OnUpstreamError == nil {
		cfg.OnUpstreamError = func(string, string, error) {}
	}
	return cfg
}

// defaultTransport is http.DefaultTransport with bounded dial and
// response-header waits. It never asks for gzip: an archive's files go
// through byte for byte.
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 60 * time.Second
	t.DisableCompression = true
	return t
}
