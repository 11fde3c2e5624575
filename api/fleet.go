package api

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/provision/provision/registry"
)

// StateBooted is the fleet view's state of a diskless system whose last
// network boot reached its OS (a "booted" event).
const StateBooted = "booted"

// FleetStates are the states the fleet view counts and filters by.
var FleetStates = append(slices.Clone(registry.Statuses), StateBooted)

// FleetRow is one system in the fleet view.
type FleetRow struct {
	Name        string    `json:"name"`
	State       string    `json:"state"` // a lifecycle state, or booted
	Profile     string    `json:"profile"`
	IP          string    `json:"ip"`
	MAC         string    `json:"mac"`
	Netboot     bool      `json:"netboot"`
	Power       string    `json:"power,omitempty"` // the last poll of its BMC: on, off, or unknown; "" without a BMC
	LastBoot    time.Time `json:"last_boot,omitzero"`
	LastEvent   string    `json:"last_event,omitempty"` // kind, then detail
	LastEventAt time.Time `json:"last_event_at,omitzero"`
}

// Fleet is a page of the fleet view: the counts of the whole fleet by
// state, and the systems that match the filters, offset to offset+limit.
type Fleet struct {
	Total   int            `json:"total"`
	Counts  map[string]int `json:"counts"`
	Matched int            `json:"matched"`
	Offset  int            `json:"offset"`
	Limit   int            `json:"limit"`
	Systems []FleetRow     `json:"systems"`
}

const (
	fleetPage    = 100
	maxFleetPage = 1000
)

// fleet answers GET /api/v1/fleet?state=&profile=&subnet=&q=&offset=&limit=:
// the server filters and pages, so that a dashboard of 10,000 systems
// gets only what it shows. q matches part of a name, MAC or IP.
func (s *server) fleet(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	q := r.URL.Query()
	state, profile, subnet := q.Get("state"), q.Get("profile"), q.Get("subnet")
	if state != "" && !slices.Contains(FleetStates, state) {
		writeError(w, http.StatusBadRequest, "state "+state+": want one of "+strings.Join(FleetStates, ", "))
		return
	}
	if !knownFilters(w, snap, profile, subnet) {
		return
	}
	offset, err1 := atoiDefault(q.Get("offset"), 0)
	limit, err2 := atoiDefault(q.Get("limit"), fleetPage)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 || limit > maxFleetPage {
		writeError(w, http.StatusBadRequest, "offset and limit: want numbers, offset >= 0 and limit 1 to "+strconv.Itoa(maxFleetPage))
		return
	}
	needle := strings.ToLower(strings.TrimSpace(q.Get("q")))
	out := Fleet{Counts: map[string]int{}, Offset: offset, Limit: limit, Systems: []FleetRow{}}
	for _, st := range FleetStates {
		out.Counts[st] = 0
	}
	for _, sys := range snap.Systems() {
		row := s.fleetRow(sys)
		out.Total++
		out.Counts[row.State]++
		if state != "" && row.State != state || profile != "" && sys.Profile != profile || needle != "" && !matches(sys, needle) {
			continue
		}
		if subnet != "" {
			ip, err := netip.ParseAddr(sys.IP)
			if sub, ok := snap.SubnetFor(ip); err != nil || !ok || sub.Name != subnet {
				continue
			}
		}
		if out.Matched >= offset && len(out.Systems) < limit {
			out.Systems = append(out.Systems, row)
		}
		out.Matched++
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) fleetRow(sys *registry.System) FleetRow {
	row := FleetRow{Name: sys.Name, State: sys.Status, Profile: sys.Profile, IP: sys.IP, Netboot: sys.Netboot}
	if len(sys.MACs) > 0 {
		row.MAC = sys.MACs[0]
	}
	if s.Events != nil {
		if l, ok := s.Events.Latest(sys.ID); ok {
			row.LastBoot, row.LastEventAt = l.Boot, l.Last.At
			row.LastEvent = strings.TrimSpace(l.Last.Kind + " " + l.Last.Detail)
			if sys.Status == registry.StateDiskless && l.Last.Kind == "booted" {
				row.State = StateBooted
			}
		}
	}
	if sys.BMC != nil {
		row.Power = "unknown"
		if s.PowerStates != nil {
			if p := s.PowerStates(sys.Name); p != "" {
				row.Power = p
			}
		}
	}
	return row
}

// matches reports whether needle (lower case) is part of the system's
// name, one of its MACs or its IP.
func matches(sys *registry.System, needle string) bool {
	if strings.Contains(strings.ToLower(sys.Name), needle) || strings.Contains(sys.IP, needle) {
		return true
	}
	for _, m := range sys.MACs {
		if strings.Contains(strings.ToLower(m), needle) {
			return true
		}
	}
	return false
}

func atoiDefault(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}
