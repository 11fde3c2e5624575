package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userAgent names the cache to upstream (User-Agent and Via).
const userAgent = "provision-mirror"

// upstream is the RoundTripper every request to an archive's upstream goes
// through (below httpcache for index files): it counts and logs each fetch,
// reports failures, and gives index files without validators a heuristic
// freshness.
type upstream struct {
	archive string
	prefix  string // the upstream URL path of the archive, with a trailing slash
	next    http.RoundTripper
	ttl     time.Duration // 0: no heuristic
	stats   *counters
	log     *slog.Logger
	report  func(archive, path string, err error)
}

func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	start, p := time.Now(), strings.TrimPrefix(req.URL.Path, u.prefix)
	resp, err := u.next.RoundTrip(req)
	if err != nil {
		if req.Context().Err() == nil {
			u.failed(p, err)
		}
		return nil, err
	}
	if ex := exchangeOf(req.Context()); ex != nil {
		ex.status = resp.StatusCode
	}
	if resp.StatusCode >= 500 {
		u.failed(p, errors.New(resp.Status))
	}
	u.heuristic(resp)
	resp.Body = &countedBody{ReadCloser: resp.Body, u: u, path: p, status: resp.StatusCode, start: start}
	return resp, nil
}

// failed counts, logs and reports one failed upstream fetch.
func (u *upstream) failed(p string, err error) {
	u.stats.upstreamErrors.Add(1)
	u.log.Warn("mirror upstream fetch failed", "archive", u.archive, "path", p, "err", err)
	u.report(u.archive, p, err)
}

// heuristic gives a 200 with no validators (ETag, Last-Modified) and no
// explicit freshness (Cache-Control, Expires) a freshness of ttl, RFC 9111
// 4.2.2, which httpcache then honours. A response without Date is dated
// now, as RFC 9110 6.6.1 lets a recipient do.
func (u *upstream) heuristic(resp *http.Response) {
	h := resp.Header
	if h.Get("Date") == "" {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if u.ttl <= 0 || resp.StatusCode != http.StatusOK {
		return
	}
	for _, k := range []string{"ETag", "Last-Modified", "Cache-Control", "Expires"} {
		if h.Get(k) != "" {
			return
		}
	}
	h.Set("Cache-Control", "max-age="+strconv.FormatInt(int64(u.ttl/time.Second), 10))
}

// countedBody counts an upstream body's bytes as they are read and logs
// the fetch once, when it ends; a read error is a failed fetch.
type countedBody struct {
	io.ReadCloser
	u      *upstream
	path   string
	status int
	start  time.Time
	n      int64
	once   sync.Once
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	b.u.stats.upstreamBytes.Add(int64(n))
	if err != nil {
		b.end(err)
	}
	return n, err
}

func (b *countedBody) Close() error {
	b.end(nil)
	return b.ReadCloser.Close()
}

func (b *countedBody) end(err error) {
	b.once.Do(func() {
		if err != nil && err != io.EOF && !errors.Is(err, context.Canceled) {
			b.u.failed(b.path, fmt.Errorf("body after %d bytes: %w", b.n, err))
			return
		}
		b.u.log.Debug("mirror upstream fetch", "archive", b.u.archive, "path", b.path,
			"status", b.status, "bytes", b.n, "duration", time.Since(b.start), "complete", err == io.EOF)
	})
}

// exchange is what one proxied request learns from upstream: its path in
// the archive, and the status upstream answered (0: not asked, or failed).
type exchange struct {
	path   string
	status int
}

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// upstreamHeaders makes a request's headers fit to send upstream: named
// as ours, asking for the bytes as stored, without the client's
// credentials.
func upstreamHeaders(h http.Header) {
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		h.Del(k)
	}
	h.Set("User-Agent", userAgent)
	h.Add("Via", "1.1 "+userAgent)
	h.Set("Accept-Encoding", "identity")
}
