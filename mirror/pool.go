package mirror

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"
)

// serveFile serves an immutable file from disk, downloading it first on a
// miss: one download however many clients ask at once. The first client
// gets the bytes as they arrive; the others, and any client with a Range,
// are served from the file once it is complete.
func (a *archive) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	key := a.Name + "/" + p
	if a.serveCached(w, r, key) {
		a.stats.hits.Add(1)
		return
	}
	a.stats.misses.Add(1)
	lead := newLeader(w, r)
	v, err, _ := a.flight.Do(key, func() (any, error) { return a.download(p, key, lead) })
	switch {
	case lead.streamed() && err != nil:
		panic(http.ErrAbortHandler) // the client must not take a short body for a whole one
	case lead.streamed():
	case err != nil:
		a.fail(w, err)
	case !v.(bool):
		a.serveDirect(w, r, p) // too big to cache
	case !a.serveCached(w, r, key):
		http.Error(w, fmt.Sprintf("mirror %s: %s was evicted before it could be served", a.Name, p), http.StatusServiceUnavailable)
	}
}

// serveCached serves key with http.ServeContent (Range, If-Range, HEAD);
// false if the cache does not hold it.
func (a *archive) serveCached(w http.ResponseWriter, r *http.Request, key string) bool {
	f, fi, ok := a.disk.open(key)
	if !ok {
		return false
	}
	defer f.Close()
	fileHeaders(w.Header(), key, fi.Size())
	http.ServeContent(w, r, "", time.Time{}, f)
	return true
}

// fileHeaders are the same for a download and a hit: a type from the
// name, and a strong ETag from the key and size (an immutable file's
// content is fixed by its name).
func fileHeaders(h http.Header, key string, size int64) {
	ctype := mime.TypeByExtension(path.Ext(key))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	sum := fnv.New64a()
	io.WriteString(sum, key)
	h.Set("ETag", fmt.Sprintf(`"%x-%x"`, sum.Sum64(), size))
}

// download fetches p into the cache at key, teeing the body to lead (nil:
// nobody streams). It runs once per key at a time, detached from the
// client's context so that the others get the file if lead goes away.
// false, nil: the file is too big to cache and was not kept (lead, if
// any, got it all the same).
func (a *archive) download(p, key string, lead *leader) (bool, error) {
	if a.disk.has(key) {
		return true, nil // a download that just finished
	}
	resp, err := a.get(p)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > a.maxFile && lead == nil {
		return false, nil // too big to cache: the client asks upstream itself
	}
	f, tmp, err := a.disk.create()
	if err != nil {
		return false, &statusError{http.StatusInternalServerError, fmt.Sprintf("mirror %s: %s: %v", a.Name, p, err)}
	}
	lead.start(key, resp.ContentLength)
	file := &capped{w: f, left: a.maxFile, over: resp.ContentLength > a.maxFile}
	n, err := io.Copy(io.MultiWriter(file, lead.writer()), resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("body of %d bytes, not %d", n, resp.ContentLength)
		a.up.failed(p, err)
	}
	if err != nil || file.over {
		a.disk.discard(f, tmp)
		return false, a.upstreamError(p, err)
	}
	if err := a.disk.commit(f, tmp, key, entry{a.Name, n}); err != nil {
		return false, &statusError{http.StatusInternalServerError, fmt.Sprintf("mirror %s: %s: caching: %v", a.Name, p, err)}
	}
	return true, nil
}

// get asks upstream for p; anything but a 200 is an error.
func (a *archive) get(p string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, a.fileURL(p).String(), nil)
	if err != nil {
		return nil, a.upstreamError(p, err)
	}
	upstreamHeaders(req.Header)
	resp, err := a.up.RoundTrip(req)
	if err != nil {
		return nil, a.upstreamError(p, err)
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

// upstreamError is "mirror NAME: upstream URL: reason", a 502; nil stays nil.
func (a *archive) upstreamError(p string, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{http.StatusBadGateway, fmt.Sprintf("mirror %s: upstream %s: %v", a.Name, a.fileURL(p), err)}
}

// statusError is an error with the HTTP status that answers it.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

func (a *archive) fail(w http.ResponseWriter, err error) {
	code := http.StatusBadGateway
	if se, ok := errors.AsType[*statusError](err); ok {
		code = se.code
	}
	http.Error(w, err.Error(), code)
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

// leader is the client whose request runs a download: it gets the body
// as it arrives. Its write errors (it went away) stop the copy to it,
// never the download.
type leader struct {
	w       http.ResponseWriter
	started bool
	gone    bool
}

// newLeader is nil for a client that must wait for the whole file: HEAD,
// or a Range.
func newLeader(w http.ResponseWriter, r *http.Request) *leader {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" {
		return nil
	}
	return &leader{w: w}
}

func (l *leader) streamed() bool { return l != nil && l.started }

func (l *leader) start(key string, size int64) {
	if l == nil {
		return
	}
	h := l.w.Header()
	fileHeaders(h, key, size)
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	} else {
		h.Del("ETag")
	}
	h.Set("Accept-Ranges", "bytes")
	l.w.WriteHeader(http.StatusOK)
	l.started = true
}

func (l *leader) writer() io.Writer {
	if l == nil {
		return io.Discard
	}
	return l
}

func (l *leader) Write(p []byte) (int, error) {
	if !l.gone {
		if _, err := l.w.Write(p); err != nil {
			l.gone = true
		}
	}
	return len(p), nil
}
