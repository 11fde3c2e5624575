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

// consoleView is the host page's Console panel: the capture's status,
// the last lines, and the buttons the session may use.
type consoleView struct {
	// None says in one line why there is no console to show (the
	// appliance captures none, the system has no BMC); the panel then
	// shows nothing else and follows nothing.
	None string
	// Never is set when the console was never captured: the panel says
	// so but follows the stream, where a capture's first lines appear.
	Never  bool
	Err    string // the API's answer when it could not be read
	Status api.ConsoleStatus
	Lines  []api.ConsoleLine
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
	v := &consoleView{Since: u.now().UTC().Format(time.RFC3339Nano)}
	if sys.BMC == nil {
		v.None = sys.Name + " has no BMC: the appliance cannot reach its serial console."
		return v
	}
	var ans consoleAnswer
	err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(sys.Name)+"/console?lines="+strconv.Itoa(n), nil, &ans)
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotImplemented:
		v.None = "This appliance captures no consoles."
		return v
	case err != nil:
		v.Err = err.Error()
		return v
	}
	v.Status, v.Lines = ans.Status, ans.Lines
	v.Never = !v.Status.Capturing && v.Status.State == "" && len(v.Lines) == 0
	if n := len(v.Lines); n > 0 {
		v.Since = v.Lines[n-1].At.Format(time.RFC3339Nano)
	}
	v.Actions, _ = ss.permitted(consoleActionsFor(v.Status), sys, site)
	return v
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
// page, as the session: Server-Sent Events, one api.ConsoleLine each
// (console.js appends them to the panel).
func (u *ui) consoleStream(w http.ResponseWriter, r *http.Request, ss *session) {
	q := url.Values{}
	if s := r.URL.Query().Get("since"); s != "" {
		q.Set("since", s)
	}
	target, err := url.Parse("/api/v1/systems/" + url.PathEscape(r.PathValue("name")) + "/console/stream?" + q.Encode())
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
