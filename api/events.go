package api

import (
	"encoding/json"
	"fmt"
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
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": provision events\n\n")
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
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		if rc.Flush() != nil {
			return
		}
	}
}
