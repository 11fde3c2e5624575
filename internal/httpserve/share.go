package httpserve

import (
	"net/http"
	"strconv"
	"sync/atomic"
)

// share bounds the requests being answered on a listener for paths that
// Config.Reserved does not name (the boot routes, on a listener they
// share with the API and the dashboard): at most max at once, so that
// Config.ReservedConns connections are always left for the reserved ones.
// With every connection open, none idle and the share full, the rest are
// the reserved requests' own: a new connection then waits for one of
// them, never for boot traffic.
type share struct {
	max  int64 // 0: no bound, and nothing counted
	busy atomic.Int64
}

// enter counts a request in; false: the share is full, answer it with
// overloaded.
func (sh *share) enter() bool {
	if sh.max == 0 {
		return true
	}
	if sh.busy.Add(1) > sh.max {
		sh.busy.Add(-1)
		return false
	}
	return true
}

// leave counts out a request that entered.
func (sh *share) leave() {
	if sh.max != 0 {
		sh.busy.Add(-1)
	}
}

// overloaded answers a request that the share has no room for: 503, try
// again in a second, on a new connection.
func overloaded(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(overloadedText)))
	h.Set("Retry-After", "1")
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(overloadedText))
}

const overloadedText = "busy: too many boot requests at once, try again soon\n"
