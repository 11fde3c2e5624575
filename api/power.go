package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/provision/provision/access"
	"github.com/provision/provision/bind"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// Power is what the API needs of a BMC controller; *ipmi.Controller
// satisfies it.
type Power interface {
	PowerState(ctx context.Context, b ipmi.BMC) (string, error)
	SetPower(ctx context.Context, b ipmi.BMC, action string) error
	SetBootDevice(ctx context.Context, b ipmi.BMC, device string, persistent bool) error
}

// ReinstallResult is the answer to a reinstall: the system, now pending,
// and what its BMC was told ("on", "cycle"), or why it could not be.
type ReinstallResult struct {
	System     registry.System `json:"system"`
	Power      string          `json:"power,omitempty"`
	PowerError string          `json:"power_error,omitempty"`
}

// Builds is the install lifecycle's power half, which the appliance
// owns: PowerForBuild boots a system whose build starts (next boot from
// the network, then power on or cycle) and says what its BMC was told;
// BuildFailed powers off, in the background, one whose build failed.
type Builds interface {
	PowerForBuild(ctx context.Context, sys *registry.System) (action string, err error)
	BuildFailed(system string)
}

// noteP puts a power action on the system's timeline and in its history.
func (s *server) noteP(ctx context.Context, system, detail string) {
	if s.Events != nil {
		s.Events.Record(registry.Event{System: system, Kind: "power", Detail: detail})
	}
	if err := s.Registry.Note(ctx, registry.ObjSystem, system, "power", detail); err != nil {
		s.Log.Warn("history of a power action", "system", system, "err", err)
	}
}

// PowerResult is one system's answer: its power state, or why there is
// none.
type PowerResult struct {
	System string `json:"system"`
	BMC    string `json:"bmc,omitempty"`
	State  string `json:"state,omitempty"`
	Error  string `json:"error,omitempty"`
}

// powerAllLimit bounds the BMCs asked at once by GET /api/v1/power.
const powerAllLimit = 32

// bmcOf is the BMC of a system, with its password, for ipmi.
func bmcOf(sys *registry.System) (ipmi.BMC, error) {
	b, ok := bind.BMC(sys)
	if !ok {
		return ipmi.BMC{}, &registry.Error{Kind: registry.ErrInvalid, Msg: "system " + sys.Name + " has no BMC (system edit " + sys.Name + " --bmc-address ...)"}
	}
	return b, nil
}

func (s *server) powerSystem(w http.ResponseWriter, r *http.Request) (*registry.System, ipmi.BMC, bool) {
	if s.Power == nil {
		writeError(w, http.StatusNotImplemented, "this server drives no BMCs")
		return nil, ipmi.BMC{}, false
	}
	sys, ok := s.snap().SystemByName(r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, "system "+r.PathValue("name")+" not found")
		return nil, ipmi.BMC{}, false
	}
	b, err := bmcOf(sys)
	if err != nil {
		fail(w, err)
		return nil, ipmi.BMC{}, false
	}
	return sys, b, true
}

// fresh reports whether the request asks its BMCs now (?fresh=1, for
// which the route asks the power right) rather than the last poll.
// Without a poll every request asks them, so it takes the power right
// too; ok false when it was refused with 403.
func (s *server) fresh(w http.ResponseWriter, r *http.Request) (fresh, ok bool) {
	if r.URL.Query().Get("fresh") != "" {
		return true, true
	}
	if s.PowerStates != nil {
		return false, true
	}
	p, _ := registry.PrincipalOf(r.Context())
	if err := p.Can(access.Power); err != nil {
		writeError(w, http.StatusForbidden, "this server keeps no poll of its BMCs (--power-poll 0), so reading power asks them: "+err.Error())
		return false, false
	}
	return true, true
}

// polled is a system's power as the last poll of its BMC found it.
func (s *server) polled(sys string, bmc string) PowerResult {
	out := PowerResult{System: sys, BMC: bmc}
	switch st := s.PowerStates(sys); st {
	case "":
		out.Error = "not polled yet (?fresh=1, with the power right, asks the BMC now)"
	case "unknown":
		out.Error = "the BMC did not answer the last poll"
	default:
		out.State = st
	}
	return out
}

// powerState answers the last poll of the system's BMC, or with
// ?fresh=1 (admin token) asks the BMC now.
func (s *server) powerState(w http.ResponseWriter, r *http.Request) {
	sys, b, ok := s.powerSystem(w, r)
	if !ok {
		return
	}
	fresh, ok := s.fresh(w, r)
	if !ok {
		return
	}
	if !fresh {
		writeJSON(w, http.StatusOK, s.polled(sys.Name, b.Address))
		return
	}
	state, err := s.Power.PowerState(r.Context(), b)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, PowerResult{System: sys.Name, BMC: b.Address, State: state})
}

func (s *server) setPower(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Action string `json:"action"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !slices.Contains(ipmi.Actions, in.Action) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("power action %q: want one of %s", in.Action, strings.Join(ipmi.Actions, ", ")))
		return
	}
	sys, b, ok := s.powerSystem(w, r)
	if !ok {
		return
	}
	err := s.Power.SetPower(r.Context(), b, in.Action)
	detail := in.Action + " by the operator"
	if err != nil {
		detail += ": " + err.Error()
	}
	s.noteP(r.Context(), sys.Name, detail)
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, PowerResult{System: sys.Name, BMC: b.Address, State: in.Action})
}

// powerAll answers every BMC's power state from the last poll, or with
// ?fresh=1 (admin token) asks them all, powerAllLimit at a time; a BMC
// that fails or does not answer only fills its own line.
func (s *server) powerAll(w http.ResponseWriter, r *http.Request) {
	if s.Power == nil {
		writeError(w, http.StatusNotImplemented, "this server drives no BMCs")
		return
	}
	fresh, ok := s.fresh(w, r)
	if !ok {
		return
	}
	var bmcs []ipmi.BMC
	for _, sys := range s.snap().Systems() {
		if b, ok := bind.BMC(sys); ok {
			bmcs = append(bmcs, b)
		}
	}
	out := make([]PowerResult, len(bmcs))
	if !fresh {
		for i, b := range bmcs {
			out[i] = s.polled(b.System, b.Address)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	for i, rd := range ipmi.ReadAll(r.Context(), s.Power, bmcs, powerAllLimit) {
		out[i] = PowerResult{System: rd.System, BMC: bmcs[i].Address, State: rd.State}
		if rd.Err != nil {
			out[i].Error = rd.Err.Error()
		}
	}
	writeJSON(w, http.StatusOK, out)
}
