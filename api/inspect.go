package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/provision/provision/registry"
)

// Inspect, in Config, powers a system whose inspection the API started
// (POST /api/v1/systems/NAME/inspect) into its next network boot, which
// boots the inventory agent, and says what its BMC was told ("on",
// "cycle"); the appliance owns it.
type Inspect func(ctx context.Context, sys *registry.System) (action string, err error)

// InspectResult is the answer to an inspect: the system whose next
// network boot runs the agent, and what its BMC was told, or why it
// could not be.
type InspectResult struct {
	System     string `json:"system"`
	Power      string `json:"power,omitempty"`
	PowerError string `json:"power_error,omitempty"`
}

// systemInventory answers the machine (with its inventory) of a
// registered system: the one linked to it, else one reported from one
// of its MACs.
func (s *server) systemInventory(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sys, ok := s.snap().SystemByName(name)
	if !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return
	}
	for _, mac := range sys.MACs {
		m, err := s.Registry.Machine(r.Context(), mac)
		if errors.Is(err, registry.ErrNotFound) {
			continue
		}
		if err != nil {
			fail(w, err)
			return
		}
		if m.System == "" || m.System == name {
			writeJSON(w, http.StatusOK, m)
			return
		}
	}
	writeError(w, http.StatusNotFound, "system "+name+" has no inventory: it never reported one (provision system inspect "+name+" boots it into the inventory agent)")
}

// inspect starts an inspection of a registered system: its next network
// boot runs the inventory agent, which refreshes its inventory (what
// changed goes to history), and then it boots what it did before. The
// system is then powered into that boot (Config.Inspect).
func (s *server) inspect(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.Registry.StartInspect(r.Context(), name); err != nil { // the token goes to the agent only, on its kernel command line
		fail(w, err)
		return
	}
	res := InspectResult{System: name}
	sys, _ := s.snap().SystemByName(name)
	switch {
	case sys == nil:
	case sys.BMC == nil:
		res.PowerError = "system " + name + " has no BMC: power it on (or reboot it) by hand, from the network"
	case s.Inspect == nil:
		res.PowerError = "this server drives no BMCs: reboot " + name + " from the network by hand"
	default:
		action, err := s.Inspect(r.Context(), sys)
		if err != nil {
			res.PowerError = err.Error()
		}
		res.Power = action
	}
	if s.Events != nil {
		s.Events.Record(registry.Event{System: name, Kind: "inspect", Detail: "its next network boot runs the inventory agent"})
	}
	writeJSON(w, http.StatusAccepted, res)
}
