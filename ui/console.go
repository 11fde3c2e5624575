package ui

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// consoleLines is how many of the recorded lines the host page shows
// when it opens; console.js keeps up to 2000 as the live ones arrive.
const consoleLines = 200

// consoleView is a Console panel, a system's on its host page or a
// discovered machine's on its page: the capture's status, the last
// lines, and the buttons the session may use.
type consoleView struct {
	// Of names whose console it is: a system's name, a machine's MAC.
	Of string
	// Base is the panel's path in the dashboard, which console.js
	// follows: Base+"/stream" relays the API's stream, Base+"/state"
	// is the status and buttons alone.
	Base string
	// None says in one line why there is no console to show (the
	// appliance captures none, the system has no BMC); the panel then
	// shows nothing else and follows nothing.
	None string
	// Never is set when the console was never captured: the panel says
	// so in one line but follows the stream, where a capture's first
	// lines appear.
	Never bool
	// Machine is set on a discovered machine's panel (read-only; its
	// capture starts at its BMC's enrolment).
	Machine bool
	Err     string // the API's answer when it could not be read
	Status  api.ConsoleStatus
	Lines   []api.ConsoleLine
	// Since is where the live stream starts: the last line's time, or
	// the time of the page when it shows none (RFC 3339).
	Since   string
	Actions []action
}

// consoleAnswer is GET /api/v1/systems/NAME/console.
type consoleAnswer struct {
	Status api.ConsoleStatus `json:"status"`
	Lines  []api.ConsoleLine `json:"lines"`
}

// console reads sys's console for the host page, as the session, with
// its last n lines (n > 0: with none the API cannot tell a console never
// captured).
func (u *ui) console(r *http.Request, ss *session, sys registry.System, site string, n int) *consoleView {
	v := u.newConsoleView(sys.Name, "/ui/systems/"+url.PathEscape(sys.Name)+"/console")
	if sys.BMC == nil {
		v.None = sys.Name + " has no BMC: the appliance cannot reach its serial console."
		return v
	}
	if !u.readConsole(r, ss, "/api/v1/systems/"+url.PathEscape(sys.Name)+"/console", n, v) {
		return v
	}
	v.Actions, _ = ss.permitted(consoleActionsFor(v.Status), sys, site)
	return v
}

// newConsoleView is the panel of of's console at base, following the
// stream from now until it has lines.
func (u *ui) newConsoleView(of, base string) *consoleView {
	return &consoleView{Of: of, Base: base, Since: u.now().UTC().Format(time.RFC3339Nano)}
}

// readConsole fills v from the API's console answer at path (a system's
// or a machine's), as the session, with the last n lines. It reports
// whether v has a console to show: false when the appliance captures
// none (v.None) or the API failed (v.Err).
func (u *ui) readConsole(r *http.Request, ss *session, path string, n int, v *consoleView) bool {
	var ans consoleAnswer
	err := u.call(r, ss, "GET", path+"?lines="+strconv.Itoa(n), nil, &ans)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotImplemented:
		v.None = "This appliance captures no consoles."
		return false
	case err != nil:
		v.Err = err.Error()
		return false
	}
	v.Status, v.Lines = ans.Status, ans.Lines
	v.Never = !v.Status.Capturing && v.Status.State == "" && len(v.Lines) == 0
	if n := len(v.Lines); n > 0 {
		v.Since = v.Lines[n-1].At.Format(time.RFC3339Nano)
	}
	return true
}

// consoleActionsFor is the one button that makes sense: stop the
// capture the operator asked for, or ask for one.
func consoleActionsFor(st api.ConsoleStatus) []action {
	if slices.Contains(st.Why, "operator") {
		return consoleActions[1:2]
	}
	return consoleActions[0:1]
}

// consoleState is the panel's status and buttons, for console.js to
// refresh: a capture starts and ends with builds, sessions reconnect.
func (u *ui) consoleState(w http.ResponseWriter, r *http.Request, ss *session) {
	d := &hostData{Session: ss}
	if err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(r.PathValue("name")), nil, &d.System); err != nil {
		u.fail(w, err)
		return
	}
	if err := u.allowActions(r, ss, d); err != nil {
		u.fail(w, err)
		return
	}
	d.Console = u.console(r, ss, d.System, d.site, 1)
	u.render(w, "consolestate", d)
}

// consoleStream relays the API's console stream of one system to the
// page (relayConsole).
func (u *ui) consoleStream(w http.ResponseWriter, r *http.Request, ss *session) {
	u.relayConsole(w, r, ss, "/api/v1/systems/"+url.PathEscape(r.PathValue("name"))+"/console/stream")
}

// relayConsole relays the API's console stream at path (a system's or a
// machine's) to the page, as the session, from the page's ?since=:
// Server-Sent Events, one api.ConsoleLine each (console.js appends them
// to the panel).
func (u *ui) relayConsole(w http.ResponseWriter, r *http.Request, ss *session, path string) {
	q := url.Values{}
	if s := r.URL.Query().Get("since"); s != "" {
		q.Set("since", s)
	}
	target, err := url.Parse(path + "?" + q.Encode())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := r.Clone(r.Context())
	req.URL = target
	req.RequestURI = target.RequestURI()
	req.Header = http.Header{"Authorization": {"Bearer " + ss.token}, "Accept": {"text/event-stream"}}
	u.API.ServeHTTP(w, req)
}
