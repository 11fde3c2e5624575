package api

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// SystemInput is the body of a system add or edit: a System plus the BMC
// password and the values of secret settings to set, which are accepted
// here and never sent back.
type SystemInput struct {
	registry.System
	BMCPassword  string            `json:"bmc_password,omitempty"`
	SecretValues map[string]string `json:"secret_values,omitempty"`
}

func (s *server) readSystem(w http.ResponseWriter, r *http.Request) (registry.System, bool) {
	in := SystemInput{System: registry.System{Netboot: true}}
	if !decode(w, r, &in) {
		return registry.System{}, false
	}
	if in.BMCPassword != "" {
		if in.BMC == nil {
			writeError(w, http.StatusBadRequest, "bmc_password without a bmc address")
			return registry.System{}, false
		}
		in.BMC.Password = registry.Secret(in.BMCPassword)
	}
	in.SecretSettings = withSecretValues(in.SecretSettings, in.SecretValues)
	return in.System, true
}

// listSystems lists systems, filtered by ?profile=P, ?subnet=S (the subnet
// their IP lies in) and ?state=STATE, all of which must exist.
func (s *server) listSystems(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	q := r.URL.Query()
	profile, subnet, state := q.Get("profile"), q.Get("subnet"), q.Get("state")
	if !knownFilters(w, snap, profile, subnet) {
		return
	}
	if state != "" && !slices.Contains(registry.Statuses, state) {
		writeError(w, http.StatusBadRequest, "state "+state+": want one of "+strings.Join(registry.Statuses, ", "))
		return
	}
	out := []*registry.System{}
	for _, sys := range snap.Systems() {
		if profile != "" && sys.Profile != profile || state != "" && sys.Status != state {
			continue
		}
		if subnet != "" {
			ip, err := netip.ParseAddr(sys.IP)
			if sub, ok := snap.SubnetFor(ip); err != nil || !ok || sub.Name != subnet {
				continue
			}
		}
		out = append(out, sys)
	}
	writeJSON(w, http.StatusOK, out)
}

// knownFilters answers 404 for a profile or subnet filter that names
// nothing, and reports whether both are known (or not given).
func knownFilters(w http.ResponseWriter, snap *registry.Snapshot, profile, subnet string) bool {
	if _, ok := snap.Profile(profile); profile != "" && !ok {
		writeError(w, http.StatusNotFound, "profile "+profile+" not found")
		return false
	}
	if _, ok := snap.Subnet(subnet); subnet != "" && !ok {
		writeError(w, http.StatusNotFound, "subnet "+subnet+" not found")
		return false
	}
	return true
}

func (s *server) showSystem(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().SystemByName(r.PathValue("name"))
	found(w, v, ok, "system", r.PathValue("name"))
}

func (s *server) addSystem(w http.ResponseWriter, r *http.Request) {
	if in, ok := s.readSystem(w, r); ok {
		v, err := s.Registry.AddSystem(r.Context(), in)
		respond(w, http.StatusCreated, v, err)
	}
}

func (s *server) editSystem(w http.ResponseWriter, r *http.Request) {
	if in, ok := s.readSystem(w, r); ok {
		r = expect(r, registry.ObjSystem)
		v, err := s.Registry.EditSystem(r.Context(), r.PathValue("name"), in)
		respond(w, http.StatusOK, v, err)
	}
}

func (s *server) removeSystem(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveSystem(r.Context(), r.PathValue("name")))
}

func (s *server) systemEvents(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := s.snap().SystemByName(name); !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return
	}
	evs := []registry.Event{}
	if s.Events != nil {
		got, err := s.Events.Events(r.Context(), name, 1000)
		if err != nil {
			fail(w, err)
			return
		}
		if r.URL.Query().Get("last_boot") != "" {
			got = registry.Timeline(got)
		}
		evs = append(evs, got...)
	}
	writeJSON(w, http.StatusOK, evs)
}

// discovered answers a page of the unknown machines seen, last seen
// first: ?limit=N (default and at most discoveredPage), ?after=CURSOR
// from the previous page's Link.
func (s *server) discovered(w http.ResponseWriter, r *http.Request) {
	limit, ok := pageLimit(w, r, discoveredPage, discoveredPage)
	if !ok {
		return
	}
	out := []registry.Discovered{}
	if s.Dynamic != nil {
		got, next, err := s.Dynamic.Discovered(r.Context(), s.snap(), r.URL.Query().Get("after"), limit)
		if err != nil {
			fail(w, err)
			return
		}
		if next != "" {
			linkNext(w, r, "after", next, limit)
		}
		out = append(out, got...)
	}
	writeJSON(w, http.StatusOK, out)
}
