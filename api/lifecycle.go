package api

import (
	"net/http"
	"strconv"

	"github.com/provision/provision/registry"
)

// reinstall starts a build and, when the system has a BMC, boots it.
func (s *server) reinstall(w http.ResponseWriter, r *http.Request) {
	v, err := s.Registry.Reinstall(r.Context(), r.PathValue("name"))
	if err != nil {
		fail(w, err)
		return
	}
	if s.Events != nil {
		s.Events.Record(registry.Event{System: v.Name, IP: v.IP, Kind: "reinstall", Detail: "pending until " + v.Deadline})
	}
	res := ReinstallResult{System: *v}
	if v.BMC != nil && s.Builds != nil {
		if res.Power, err = s.Builds.PowerForBuild(r.Context(), v); err != nil {
			res.PowerError = err.Error()
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) abort(w http.ResponseWriter, r *http.Request) {
	v, err := s.Registry.AbortBuild(r.Context(), r.PathValue("name"))
	if err == nil && s.Events != nil {
		s.Events.Record(registry.Event{System: v.Name, IP: v.IP, Kind: "failed", Detail: "aborted by the operator"})
	}
	if err == nil && s.Builds != nil {
		s.Builds.BuildFailed(v.Name)
	}
	respond(w, http.StatusOK, v, err)
}

// NetbootInput is the body of POST /api/v1/systems/NAME/netboot.
type NetbootInput struct {
	Netboot *bool `json:"netboot"`
}

// netboot turns a system's network boot on or off, nothing else: the
// build right's netboot, which needs no right to edit the system.
func (s *server) netboot(w http.ResponseWriter, r *http.Request) {
	var in NetbootInput
	if !decode(w, r, &in) {
		return
	}
	if in.Netboot == nil {
		writeError(w, http.StatusBadRequest, "system "+r.PathValue("name")+": netboot: give {\"netboot\": true} or false")
		return
	}
	v, err := s.Registry.SetNetboot(r.Context(), r.PathValue("name"), *in.Netboot)
	respond(w, http.StatusOK, v, err)
}

func (s *server) installLog(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.snap().SystemByName(name); !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return
	}
	l, err := s.Registry.InstallLog(r.Context(), name)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Log-Size", strconv.FormatInt(l.Size, 10))
	w.Header().Set("X-Log-At", l.At)
	w.Write(l.Log)
}
