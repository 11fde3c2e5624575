package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// downloadIdle is how long a download waits for upstream's next byte (or
// its answer) before it gives up: every client of the file waits on it.
const downloadIdle = 2 * time.Minute

// download fetches p into the cache at key, teeing the body to lead (nil:
// nobody streams). It runs once per key at a time, detached from the
// client's context so that the others get the file if lead goes away.
// false, nil: the file is too big to cache and was not kept (lead, if
// any, got it all the same).
func (a *archive) download(p, key string, lead *leader) (bool, error) {
	if a.disk.has(key) {
		return true, nil // a download that just finished
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stall := time.AfterFunc(a.idle, cancel)
	defer stall.Stop()
	resp, err := a.get(ctx, p)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > a.maxFile && lead == nil {
		return false, nil // too big to cache: the client asks upstream itself
	}
	body := &progress{r: resp.Body, stall: stall, idle: a.idle}
	return a.save(ctx, p, key, body, resp.ContentLength, lead)
}

// save copies body to a temporary file and to lead, and commits the file
// if it is whole (size, when known, is what upstream announced).
func (a *archive) save(ctx context.Context, p, key string, body io.Reader, size int64, lead *leader) (bool, error) {
	f, tmp, err := a.disk.create()
	if err != nil {
		return false, &statusError{http.StatusInternalServerError, fmt.Sprintf("mirror %s: %s: %v", a.Name, p, err)}
	}
	lead.start(key, size)
	file := &capped{w: f, left: a.maxFile, over: size > a.maxFile}
	n, err := io.Copy(io.MultiWriter(file, lead.writer()), body)
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("body of %d bytes, not %d", n, size)
		a.up.failed(p, err)
	}
	if err != nil || file.over {
		a.disk.discard(f, tmp)
		return false, a.upstreamError(p, a.stalled(ctx, p, err))
	}
	if err := a.disk.commit(f, tmp, key, entry{a.Name, n}); err != nil {
		return false, &statusError{http.StatusInternalServerError, fmt.Sprintf("mirror %s: %s: caching: %v", a.Name, p, err)}
	}
	return true, nil
}

// get asks upstream for p; anything but a 200 is an error.
func (a *archive) get(ctx context.Context, p string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.fileURL(p).String(), nil)
	if err != nil {
		return nil, a.upstreamError(p, err)
	}
	upstreamHeaders(req.Header)
	resp, err := a.up.RoundTrip(req)
	if err != nil {
		return nil, a.upstreamError(p, a.stalled(ctx, p, err))
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		return nil, &statusError{resp.StatusCode, fmt.Sprintf("mirror %s: %s: upstream says %s", a.Name, p, resp.Status)}
	}
	err = errors.New(resp.Status)
	if resp.StatusCode < 500 { // upstream counted the 5xx
		a.up.failed(p, err)
	}
	return nil, a.upstreamError(p, err)
}

// stalled names the error of a download that gave up waiting (its
// context is cancelled only then), and reports it: upstream does not
// report a cancelled request.
func (a *archive) stalled(ctx context.Context, p string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	err = fmt.Errorf("nothing from upstream for %v", a.idle)
	a.up.failed(p, err)
	return err
}

// upstreamError is "mirror NAME: upstream URL: reason", a 502; nil stays nil.
func (a *archive) upstreamError(p string, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{http.StatusBadGateway, fmt.Sprintf("mirror %s: upstream %s: %v", a.Name, a.fileURL(p), err)}
}

// progress pushes back the stall timer at every read that brings bytes.
type progress struct {
	r     io.Reader
	stall *time.Timer
	idle  time.Duration
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.stall.Reset(p.idle)
	}
	return n, err
}

// capped writes to w until left bytes are used up, then drops the rest
// and notes that it is over (the file is too big to cache).
type capped struct {
	w    io.Writer
	left int64
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.over || int64(len(p)) > c.left {
		c.over = true
		return len(p), nil
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}
