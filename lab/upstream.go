package lab

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Upstream is the lab's one way out to the real package archives: an
// HTTP relay that this process runs with its listener inside a Net's
// server namespace (where the appliance under test runs, with no route
// out), forwarding /NAME/... to the archive NAME's real URL from this
// process's own namespace. It counts what crosses, so a test can tell
// what the appliance fetched from upstream.
type Upstream struct {
	URL string // http://127.0.0.1:PORT as the server namespace reaches it; URL+"/NAME" is an archive

	mu      sync.Mutex
	fetches []Fetch
}

// Fetch is one request the relay forwarded.
type Fetch struct {
	Path   string // the path asked of the real archive
	Status int
	Bytes  int64 // body bytes relayed
}

// StartUpstream starts a relay for the archives (name -> real URL, e.g.
// "debian" -> http://deb.debian.org/debian) in n's server namespace.
func (e *Env) StartUpstream(n *Net, archives map[string]*url.URL) (*Upstream, error) {
	ln, err := e.Listen(n, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &Upstream{URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	for name, target := range archives {
		mux.Handle("/"+name+"/", u.relay(name, target))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	e.Defer(func() { srv.Shutdown(context.Background()) })
	return u, nil
}

// relay forwards /name/REST to target/REST and records the fetch.
func (u *Upstream) relay(name string, target *url.URL) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + "/" + strings.TrimPrefix(r.In.URL.Path, "/"+name+"/")
			r.Out.URL.RawPath = ""
			r.Out.Host = target.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Body = &countingBody{ReadCloser: resp.Body, done: func(n int64) {
				u.record(Fetch{Path: resp.Request.URL.Path, Status: resp.StatusCode, Bytes: n})
			}}
			return nil
		},
	}
	return rp
}

func (u *Upstream) record(f Fetch) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fetches = append(u.fetches, f)
}

// Fetches returns what the relay forwarded so far, in order.
func (u *Upstream) Fetches() []Fetch {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Fetch(nil), u.fetches...)
}

// Summary is a one-line account of fetches: how many, how many bytes.
func Summary(fs []Fetch) string {
	var bytes int64
	status := map[int]int{}
	for _, f := range fs {
		bytes += f.Bytes
		status[f.Status]++
	}
	var codes []string
	for c, n := range status {
		codes = append(codes, fmt.Sprintf("%d×%d", n, c))
	}
	sort.Strings(codes)
	return fmt.Sprintf("%d fetches (%s), %d bytes", len(fs), strings.Join(codes, " "), bytes)
}

// countingBody counts the bytes read and reports them once, at Close.
type countingBody struct {
	io.ReadCloser
	n    int64
	once sync.Once
	done func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error {
	b.once.Do(func() { b.done(b.n) })
	return b.ReadCloser.Close()
}
