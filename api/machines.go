package api

import (
	"errors"
	"net/http"

	"github.com/provision/provision/registry"
)

// machinesPage is the default and largest page of GET /api/v1/machines.
const machinesPage = 1000

// AcceptInput is the body of POST /api/v1/machines/KEY/accept: the
// system a discovered machine becomes.
type AcceptInput struct {
	Name    string `json:"name"`
	Profile string `json:"profile"`
	// IP is "auto" (the lowest free address of the subnet outside its
	// pool) or an address; "" is auto.
	IP string `json:"ip,omitempty"`
	// Subnet is the subnet of an auto address; "" is the one the machine
	// reported from.
	Subnet string `json:"subnet,omitempty"`
	// Reinstall adds the system pending a build and powers it through its
	// enrolled BMC into its profile's install or deploy.
	Reinstall bool `json:"reinstall,omitempty"`
}

// machineStates are the ?state= filters of GET /api/v1/machines.
var machineStates = []string{registry.MachineDiscovered, registry.MachineRegistered}

// listMachines answers a page of the machines that reported an
// inventory: ?state=discovered|registered, ?limit=N, ?after=CURSOR from
// the previous page's Link.
func (s *server) listMachines(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state != "" && state != machineStates[0] && state != machineStates[1] {
		writeError(w, http.StatusBadRequest, "state "+state+": want discovered or registered")
		return
	}
	limit, ok := pageLimit(w, r, machinesPage, machinesPage)
	if !ok {
		return
	}
	got, next, err := s.Registry.Machines(r.Context(), state, r.URL.Query().Get("after"), limit)
	if err != nil {
		fail(w, err)
		return
	}
	if next != "" {
		linkNext(w, r, "after", next, limit)
	}
	if got == nil {
		got = []registry.Machine{}
	}
	writeJSON(w, http.StatusOK, got)
}

// machine answers the machine of {key}, or 404 naming the key.
func (s *server) machine(w http.ResponseWriter, r *http.Request) (*registry.Machine, bool) {
	key := r.PathValue("key")
	m, err := s.Registry.Machine(r.Context(), key)
	if errors.Is(err, registry.ErrNotFound) {
		writeError(w, http.StatusNotFound, "machine "+key+" not found: no machine reported an inventory with that MAC or DMI serial")
		return nil, false
	}
	if err != nil {
		fail(w, err)
		return nil, false
	}
	return m, true
}

func (s *server) showMachine(w http.ResponseWriter, r *http.Request) {
	if m, ok := s.machine(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}

func (s *server) removeMachine(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.machine(w, r); ok {
		removed(w, s.Registry.RemoveMachine(r.Context(), r.PathValue("key")))
	}
}

// acceptMachine makes a discovered machine a system (201). With
// reinstall, its BMC is told to boot it into its build as a reinstall's
// is; the answer says what the BMC was told, or why it could not be.
func (s *server) acceptMachine(w http.ResponseWriter, r *http.Request) {
	var in AcceptInput
	if !decode(w, r, &in) {
		return
	}
	if _, ok := s.machine(w, r); !ok {
		return
	}
	v, err := s.Registry.AcceptMachine(r.Context(), r.PathValue("key"), registry.Accept{
		Name: in.Name, Profile: in.Profile, IP: in.IP, Subnet: in.Subnet, Reinstall: in.Reinstall})
	if err != nil {
		fail(w, err)
		return
	}
	res := ReinstallResult{System: *v}
	if in.Reinstall {
		if s.Events != nil {
			s.Events.Record(registry.Event{System: v.Name, IP: v.IP, Kind: "reinstall", Detail: "accepted from discovery, pending until " + v.Deadline})
		}
		res.Power, res.PowerError = s.powerBuild(r, v)
	}
	writeJSON(w, http.StatusCreated, res)
}

// powerBuild boots sys into its build through its BMC (Builds), as a
// reinstall does: what the BMC was told, or why not.
func (s *server) powerBuild(r *http.Request, sys *registry.System) (action, problem string) {
	switch {
	case sys.BMC == nil:
		return "", "system " + sys.Name + " has no BMC: power it on by hand (it boots its build from the network)"
	case s.Builds == nil:
		return "", "this server drives no BMCs: power " + sys.Name + " on by hand"
	}
	action, err := s.Builds.PowerForBuild(r.Context(), sys)
	if err != nil {
		return "", err.Error()
	}
	return action, ""
}

// watchMachine asks a discovered machine's agent to stay up ({"watch":
// true}) or to power off when it is done ({"watch": false}); it answers
// the machine.
func (s *server) watchMachine(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Watch bool `json:"watch"`
	}
	if !decode(w, r, &in) {
		return
	}
	if _, ok := s.machine(w, r); !ok {
		return
	}
	if err := s.Registry.WatchMachine(r.Context(), r.PathValue("key"), in.Watch); err != nil {
		fail(w, err)
		return
	}
	if m, ok := s.machine(w, r); ok {
		writeJSON(w, http.StatusOK, m)
	}
}
