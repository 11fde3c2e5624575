package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// Power is what the API needs of a BMC controller; *ipmi.Controller
// satisfies it.
type Power interface {
	PowerState(ctx context.Context, b ipmi.BMC) (string, error)
	SetPower(ctx context.Context, b ipmi.BMC, action string) error
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
	if sys.BMC == nil {
		return ipmi.BMC{}, &registry.Error{Kind: registry.ErrInvalid, Msg: "system " + sys.Name + " has no BMC (system edit " + sys.Name + " --bmc-address ...)"}
	}
	b := sys.BMC
	return ipmi.BMC{System: sys.Name, Address: b.Address, Port: b.Port, User: b.User, Password: string(b.Password), Provider: b.Provider}, nil
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

func (s *server) powerState(w http.ResponseWriter, r *http.Request) {
	sys, b, ok := s.powerSystem(w, r)
	if !ok {
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
	if s.Events != nil {
		detail := in.Action + " by the operator"
		if err != nil {
			detail += ": " + err.Error()
		}
		s.Events.Record(registry.Event{System: sys.Name, Kind: "power", Detail: detail})
	}
	if err != nil {
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, PowerResult{System: sys.Name, BMC: b.Address, State: in.Action})
}

// powerAll asks every BMC for its power state, powerAllLimit at a time;
// a BMC that fails or does not answer only fills its own line.
func (s *server) powerAll(w http.ResponseWriter, r *http.Request) {
	if s.Power == nil {
		writeError(w, http.StatusNotImplemented, "this server drives no BMCs")
		return
	}
	var systems []*registry.System
	for _, sys := range s.snap().Systems() {
		if sys.BMC != nil {
			systems = append(systems, sys)
		}
	}
	out := make([]PowerResult, len(systems))
	var g errgroup.Group
	g.SetLimit(powerAllLimit)
	for i, sys := range systems {
		g.Go(func() error {
			b, _ := bmcOf(sys)
			out[i] = PowerResult{System: sys.Name, BMC: b.Address}
			state, err := s.Power.PowerState(r.Context(), b)
			if err != nil {
				out[i].Error = err.Error()
				if errors.Is(err, context.Canceled) {
					return err
				}
				return nil
			}
			out[i].State = state
			return nil
		})
	}
	g.Wait()
	writeJSON(w, http.StatusOK, out)
}
