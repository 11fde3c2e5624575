package mirror

import (
	"io"
	"net/http"
	"strconv"
)

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
