package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/provision/provision/registry"
)

// listEvents answers the recent events of every system (or ?system=),
// oldest first.
func (s *server) listEvents(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 10000 {
			writeError(w, http.StatusBadRequest, "limit must be a number from 1 to 10000")
			return
		}
		limit = n
	}
	evs := []registry.Event{}
	if s.Events != nil {
		got, err := s.Events.Events(r.Context(), r.URL.Query().Get("system"), limit)
		if err != nil {
			fail(w, err)
			return
		}
		evs = append(evs, got...)
	}
	writeJSON(w, http.StatusOK, evs)
}

// keepAlive is how often an idle event stream sends a comment, so that
// proxies and clients see the connection is alive.
const keepAlive = 15 * time.Second

// startEvents answers with Server-Sent Events: their headers, then a
// comment that names the stream; the caller sends the events (sendEvent)
// and flushes through the controller returned.
func startEvents(w http.ResponseWriter, name string) *http.ResponseController {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": %s\n\n", name)
	return http.NewResponseController(w)
}

// sendEvent sends v as one event, its data v in JSON.
func sendEvent(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "data: %s\n\n", b)
}

// streamEvents sends every event (of ?system= only, if given) as it is
// recorded, as Server-Sent Events: "data: {JSON event}" lines.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request) {
	if s.Events == nil {
		writeError(w, http.StatusNotFound, "this server keeps no events")
		return
	}
	system := r.URL.Query().Get("system")
	ch, stop := s.Events.Follow()
	defer stop()
	rc := startEvents(w, "provision events")
	rc.Flush()
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case e := <-ch:
			if system != "" && e.System != system {
				continue
			}
			sendEvent(w, e)
		}
		if rc.Flush() != nil {
			return
		}
	}
}
