package ui

import (
	"net/http"
	"net/url"

	"github.com/provision/provision/registry"
)

// machineConsole reads the console of the discovered machine m for its
// page, as the session, with its last n lines: read-only (no buttons;
// the API has no attach or capture for machines). A console never
// captured is still followed: the appliance learns a machine's BMC
// credentials only when its agent enrols the BMC, and captures it from
// then while the agent runs, so an enrolment may start one at any time.
func (u *ui) machineConsole(r *http.Request, ss *session, m registry.Machine, n int) *consoleView {
	key := url.PathEscape(m.MAC)
	v := u.newConsoleView(m.MAC, "/ui/discovered/"+key+"/console")
	v.Machine = true
	u.readConsole(r, ss, "/api/v1/machines/"+key+"/console", n, v)
	return v
}

// machineConsoleState is the machine's panel status, for console.js to
// refresh: a capture starts at the BMC's enrolment and ends when the
// agent is told to power off or reboot.
func (u *ui) machineConsoleState(w http.ResponseWriter, r *http.Request, ss *session) {
	d := &machineData{Session: ss}
	if err := u.call(r, ss, "GET", "/api/v1/machines/"+url.PathEscape(r.PathValue("key")), nil, &d.Machine); err != nil {
		u.fail(w, err)
		return
	}
	d.Console = u.machineConsole(r, ss, d.Machine, 1)
	u.render(w, "consolestate", d)
}

// machineConsoleStream relays the API's console stream of one
// discovered machine to the page (relayConsole).
func (u *ui) machineConsoleStream(w http.ResponseWriter, r *http.Request, ss *session) {
	u.relayConsole(w, r, ss, "/api/v1/machines/"+url.PathEscape(r.PathValue("key"))+"/console/stream")
}
