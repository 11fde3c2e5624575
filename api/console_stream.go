package api

import (
	"fmt"
	"net/http"
	"time"
)

// streamConsole sends a system's console lines as Server-Sent Events, one
// ConsoleLine JSON per "data:" line, as they come; with ?since= the lines
// recorded since then first. A line the machine has not ended within
// partialAfter is sent with partial true, and its rest as the next line.
//
// The live bytes are followed before the recorded lines are read, so that
// none is missed between the two: a line at that seam may come twice
// (recorded, then live, or the recorded partial last line and then its
// end). A comment every keepAlive keeps proxies from closing an idle
// stream. The stream ends when the client leaves or the appliance stops.
func (s *server) streamConsole(w http.ResponseWriter, r *http.Request) {
	if system, ok := s.consoleSystem(w, r); ok {
		s.writeConsoleStream(w, r, system)
	}
}

// writeConsoleStream is the stream of the console of system (a system's
// name or a machine's console name).
func (s *server) writeConsoleStream(w http.ResponseWriter, r *http.Request, system string) {
	since, err := parseConsoleSince(r.URL.Query().Get("since"), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	live, err := s.Console.Follow(ctx, system)
	if err != nil {
		consoleFail(w, system, err)
		return
	}
	var recorded []ConsoleLine
	if r.URL.Query().Get("since") != "" {
		lines, err := s.Console.Lines(system, since)
		if err != nil {
			consoleFail(w, system, err)
			return
		}
		recorded = cleanLines(lines)
	}
	rc := startEvents(w, "provision console "+system)
	send := func(l ConsoleLine) { sendEvent(w, l) }
	for _, l := range recorded {
		send(l)
	}
	if rc.Flush() != nil {
		return
	}
	followLines(w, r, rc, live, send)
}

// followLines sends live's bytes as lines until the request or live ends,
// with a keep-alive comment when idle.
func followLines(w http.ResponseWriter, r *http.Request, rc *http.ResponseController, live <-chan []byte, send func(ConsoleLine)) {
	var sp lineSplitter
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	partial := time.NewTimer(time.Hour)
	partial.Stop()
	defer partial.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case now := <-partial.C:
			sp.flushPartial(now, send)
		case b, ok := <-live:
			if !ok {
				sp.flushPartial(time.Now(), send)
				rc.Flush()
				return
			}
			sp.write(b, time.Now(), send)
			if due, ok := sp.due(); ok {
				partial.Reset(time.Until(due))
			} else {
				partial.Stop()
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}
