package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// action is something an operator does to a host from the dashboard,
// with the right the API asks for it.
type action struct {
	Name, Label, Question string
	Danger                bool
	Right                 access.Right
}

var actions = []action{
	{"reinstall", "Reinstall", "Reinstall %s? Its next network boot installs it again from scratch, and its BMC is told to boot it now.", true, access.Build},
	{"abort", "Abort build", "Abort the build of %s? It is marked failed, and its BMC powers it off.", true, access.Build},
	{"inspect", "Inspect", "Inspect %s? Its next network boot runs the inventory agent, and its BMC is told to boot it now.", false, access.Build},
	{"power-on", "Power on", "Power on %s through its BMC?", false, access.Power},
	{"power-off", "Power off", "Power off %s through its BMC? It stops at once, without shutting down.", true, access.Power},
	{"power-cycle", "Power cycle", "Power cycle %s through its BMC? It restarts at once, without shutting down.", true, access.Power},
	{"netboot-on", "Netboot on", "Turn netboot on for %s? Its next boot is from the network.", false, access.Build},
	{"netboot-off", "Netboot off", "Turn netboot off for %s? Its next boot is from its disk.", false, access.Build},
}

// consoleActions are the console panel's buttons (consoleActionsFor),
// not the page's action bar: starting or stopping a capture changes no
// machine, so the panel posts them without a confirmation page.
var consoleActions = []action{
	{"capture-on", "Start capture", "Start capturing the console of %s? The appliance opens a serial-over-LAN session through its BMC and records it until you stop it.", false, access.Console},
	{"capture-off", "Stop capture", "Stop the capture you asked for on %s? A build's capture goes on until the build ends.", false, access.Console},
}

// actionsFor lists what makes sense for sys: reinstall only with a
// template to install from, abort only during a build, power only with
// a BMC.
func actionsFor(sys registry.System, installs bool) []action {
	var out []action
	building := sys.Status == registry.StatePending || sys.Status == registry.StateInstalling
	for _, a := range actions {
		switch {
		case a.Name == "reinstall" && !installs, a.Name == "abort" && !building:
		case strings.HasPrefix(a.Name, "power-") && sys.BMC == nil:
		case a.Name == "netboot-on" && sys.Netboot || a.Name == "netboot-off" && !sys.Netboot:
		default:
			out = append(out, a)
		}
	}
	return out
}

func findAction(name string) (action, bool) {
	for _, a := range append(actions[:len(actions):len(actions)], consoleActions...) {
		if a.Name == name {
			return a, true
		}
	}
	return action{}, false
}

func (u *ui) confirmPage(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	a, ok := findAction(r.URL.Query().Get("action"))
	if !ok {
		http.Error(w, "no such action: "+r.URL.Query().Get("action"), http.StatusBadRequest)
		return
	}
	var sys registry.System
	if err := u.call(r, ss, "GET", "/api/v1/systems/"+url.PathEscape(name), nil, &sys); err != nil {
		u.fail(w, err)
		return
	}
	u.render(w, "confirm", map[string]any{"Session": ss, "System": sys, "Action": a, "Question": fmt.Sprintf(a.Question, sys.Name)})
}

// action does what the confirmed form asks, through the API, and shows
// the host page with the outcome.
func (u *ui) action(w http.ResponseWriter, r *http.Request, ss *session) {
	name := r.PathValue("name")
	a, ok := findAction(r.PostFormValue("action"))
	if !ok {
		http.Error(w, "no such action: "+r.PostFormValue("action"), http.StatusBadRequest)
		return
	}
	if r.PostFormValue("confirm") != name {
		http.Error(w, "refused: the confirmation does not name "+name, http.StatusBadRequest)
		return
	}
	sysPath := "/api/v1/systems/" + url.PathEscape(name)
	var err error
	switch a.Name {
	case "reinstall", "abort", "inspect":
		err = u.call(r, ss, "POST", sysPath+"/"+a.Name, nil, nil)
	case "power-on", "power-off", "power-cycle":
		err = u.call(r, ss, "POST", sysPath+"/power", map[string]string{"action": strings.TrimPrefix(a.Name, "power-")}, nil)
	case "netboot-on", "netboot-off":
		err = u.call(r, ss, "POST", sysPath+"/netboot", api.NetbootInput{Netboot: new(a.Name == "netboot-on")}, nil)
	case "capture-on", "capture-off":
		err = u.call(r, ss, "POST", sysPath+"/console/capture", map[string]bool{"on": a.Name == "capture-on"}, nil)
	}
	done := a.Label + ": done"
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			u.pages["confirm"].ExecuteTemplate(w, "refused", map[string]any{"Session": ss, "Name": name, "Action": a, "Msg": ae.Msg})
			return
		}
		done = a.Label + " failed: " + err.Error()
	}
	to := "/ui/systems/" + url.PathEscape(name) + "?done=" + url.QueryEscape(done)
	if a.Right == access.Console {
		to += "#console"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
