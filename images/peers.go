package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Want is an image file the registry names and the store should hold.
type Want struct {
	Image, Role, SHA256 string
}

// Peers fills a Store with the image files that other appliances on the
// same registry hold: an image is uploaded to one appliance of a master
// pair, and the other fetches each of its files from the peer's boot
// listener (GET BASE/images/IMAGE/ROLE) and keeps it only if it hashes to
// the digest the registry gives. A file that no peer has yet is tried
// again later.
type Peers struct {
	URLs   []string // the peers' HTTP base URLs, e.g. http://10.0.0.2
	Store  *Store
	Client *http.Client // nil: a client with a 10-minute timeout
	Log    *slog.Logger

	mu      sync.Mutex
	fetched map[string]bool // digests being fetched, so two syncs do not race
}

// Sync fetches every wanted file the store lacks and returns how many it
// could not get from any peer (with the last reason).
func (p *Peers) Sync(ctx context.Context, want []Want) (missing int, err error) {
	for _, w := range want {
		if p.Store.Has(w.SHA256) || !p.claim(w.SHA256) {
			continue
		}
		ferr := p.fetch(ctx, w)
		p.release(w.SHA256)
		if ferr != nil {
			missing, err = missing+1, ferr
		}
	}
	return missing, err
}

func (p *Peers) claim(sha string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fetched == nil {
		p.fetched = map[string]bool{}
	}
	if p.fetched[sha] {
		return false
	}
	p.fetched[sha] = true
	return true
}

func (p *Peers) release(sha string) {
	p.mu.Lock()
	delete(p.fetched, sha)
	p.mu.Unlock()
}

// fetch tries each peer in turn for one file.
func (p *Peers) fetch(ctx context.Context, w Want) error {
	var errs []error
	for _, base := range p.URLs {
		start := time.Now()
		size, err := p.fetchFrom(ctx, base, w)
		if err == nil {
			if p.Log != nil {
				p.Log.Info("images: fetched from a peer", "image", w.Image, "file", w.Role, "sha256", w.SHA256, "peer", base,
					"bytes", size, "dur", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("image %s file %s: no peer has it: %w", w.Image, w.Role, errors.Join(errs...))
}

func (p *Peers) fetchFrom(ctx context.Context, base string, w Want) (int64, error) {
	u := strings.TrimRight(base, "/") + "/images/" + url.PathEscape(w.Image) + "/" + url.PathEscape(w.Role)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("peer %s: %w", base, err)
	}
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Errorf("peer %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("peer %s: GET %s: %s", base, u, resp.Status)
	}
	_, size, err := p.Store.Put(resp.Body, w.SHA256)
	if err != nil {
		return 0, fmt.Errorf("peer %s: %w", base, err)
	}
	return size, nil
}
