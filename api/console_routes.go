package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/provision/provision/console"
)

// The console routes (issue 33), each about the system in the path:
//
//	GET  /api/v1/systems/NAME/console[?since=D&lines=N]  its status and recorded lines (read right)
//	GET  /api/v1/systems/NAME/console/stream[?since=D]    its lines as they come (Server-Sent Events; read right)
//	POST /api/v1/systems/NAME/console/attach              interactive: the body is typed, the answer is the console (console right)
//	POST /api/v1/systems/NAME/console/capture {"on": B}   start or end an operator's capture (console right)
//
// Without Config.Console they answer 501.
func (s *server) consoleRoutes(mux *http.ServeMux) {
	s.route(mux, "GET /api/v1/systems/{name}/console", s.consoleLines)
	s.route(mux, "GET /api/v1/systems/{name}/console/stream", s.streamConsole)
	s.route(mux, "POST /api/v1/systems/{name}/console/attach", s.attachConsole)
	s.route(mux, "POST /api/v1/systems/{name}/console/capture", s.captureConsole)
	s.machineConsoleRoutes(mux)
}

// ConsoleView is the answer of GET /api/v1/systems/NAME/console: the
// console's status and its last recorded lines, oldest first, as text
// (console.Text: control sequences stripped, boot tokens redacted).
type ConsoleView struct {
	Status ConsoleStatus `json:"status"`
	Lines  []ConsoleLine `json:"lines"`
}

// consoleLinesDefault and consoleLinesMax bound ?lines=.
const (
	consoleLinesDefault = 200
	consoleLinesMax     = 10000
)

// consoleSystem is the system of a console route, once the server has
// consoles and the system exists; it answered the error otherwise.
func (s *server) consoleSystem(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.Console == nil {
		writeError(w, http.StatusNotImplemented, "this server captures no consoles")
		return "", false
	}
	name := r.PathValue("name")
	if _, ok := s.snap().SystemByName(name); !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return "", false
	}
	return name, true
}

// parseConsoleSince reads ?since=: a duration back from now (10m) or an
// RFC 3339 time; "" is the zero time (everything kept).
func parseConsoleSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("since %q: want a duration (10m) or an RFC 3339 time (2026-12-01T08:00:00Z)", v)
}

// parseConsoleLines reads ?lines=: how many of the last lines, 0 for
// the status alone.
func parseConsoleLines(v string) (int, error) {
	if v == "" {
		return consoleLinesDefault, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > consoleLinesMax {
		return 0, fmt.Errorf("lines %q: want a number from 0 to %d", v, consoleLinesMax)
	}
	return n, nil
}

// consoleStatus is system's status, or the status of a console never
// captured.
func (s *server) consoleStatus(system string) ConsoleStatus {
	st, ok := s.Console.Status(system)
	if !ok {
		return ConsoleStatus{System: system}
	}
	st.System = system
	return st
}

// consoleLines answers a system's console status and its last lines.
func (s *server) consoleLines(w http.ResponseWriter, r *http.Request) {
	if system, ok := s.consoleSystem(w, r); ok {
		s.writeConsoleLines(w, r, system)
	}
}

// writeConsoleLines answers the status and last lines of the console of
// system (a system's name or a machine's console name).
func (s *server) writeConsoleLines(w http.ResponseWriter, r *http.Request, system string) {
	q := r.URL.Query()
	since, err := parseConsoleSince(q.Get("since"), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := parseConsoleLines(q.Get("lines"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	view := ConsoleView{Status: s.consoleStatus(system), Lines: []ConsoleLine{}}
	if n > 0 {
		lines, err := s.Console.Lines(system, since)
		if err != nil {
			consoleFail(w, system, err)
			return
		}
		view.Lines = cleanLines(lines[max(0, len(lines)-n):])
	}
	writeJSON(w, http.StatusOK, view)
}

// cleanLines is recorded lines as the API shows them: text with the
// control sequences stripped.
func cleanLines(lines []console.Line) []ConsoleLine {
	out := make([]ConsoleLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, ConsoleLine{At: l.At, Text: console.Text(l.Text)})
	}
	return out
}

// captureConsole starts or ends the capture an operator asks for, and
// answers the console's status.
func (s *server) captureConsole(w http.ResponseWriter, r *http.Request) {
	var in struct {
		On *bool `json:"on"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.On == nil {
		writeError(w, http.StatusBadRequest, `capture: give {"on": true} or {"on": false}`)
		return
	}
	system, ok := s.consoleSystem(w, r)
	if !ok {
		return
	}
	if err := s.Console.Capture(r.Context(), system, *in.On); err != nil {
		consoleFail(w, system, err)
		return
	}
	writeJSON(w, http.StatusOK, s.consoleStatus(system))
}

// consoleFail answers a console error with its status, in words that name
// the system: another operator attached is 409, too many sessions 503,
// a BMC that refuses or has no SOL 502, the registry's errors as usual.
func consoleFail(w http.ResponseWriter, system string, err error) {
	status := 0
	msg := err.Error()
	switch {
	case errors.Is(err, console.ErrAttached):
		status, msg = http.StatusConflict, "another operator is attached to "+system+"'s console"
	case errors.Is(err, console.ErrTooMany):
		status = http.StatusServiceUnavailable
	case errors.Is(err, console.ErrAuth), errors.Is(err, console.ErrUnsupported):
		status = http.StatusBadGateway
	case errors.Is(err, console.ErrSystemName):
		status = http.StatusBadRequest
	}
	if !strings.Contains(msg, system) {
		msg = system + "'s console: " + msg
	}
	if status == 0 {
		fail(w, &wrapped{msg: msg, err: err})
		return
	}
	writeError(w, status, msg)
}

// wrapped is err with another message, so that fail still maps the
// registry's error kinds.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }
