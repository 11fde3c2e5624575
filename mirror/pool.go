package mirror

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"path"
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
