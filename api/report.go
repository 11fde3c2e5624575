package api

import (
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// Report is a system's merged view (GET /api/v1/systems/NAME/report):
// what it boots, with what settings from where, and how its last boot
// went, the view Cobbler users know as "system report".
type Report struct {
	System     *registry.System `json:"system"`
	Image      string           `json:"image,omitempty"`
	ImageKind  string           `json:"image_kind,omitempty"`
	Template   string           `json:"template,omitempty"`
	Loader     string           `json:"loader"`
	KernelArgs string           `json:"kernel_args"` // the profile's, then the system's
	BootURL    string           `json:"boot_url,omitempty"`
	Settings   []ReportSetting  `json:"settings"`
	LastBoot   []registry.Event `json:"last_boot"` // the timeline of system status
}

// ReportSetting is an effective setting and where it comes from: global,
// profile NAME or system.
type ReportSetting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	From  string `json:"from"`
}

func (s *server) systemReport(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	name := r.PathValue("name")
	sys, ok := snap.SystemByName(name)
	if !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return
	}
	rep := Report{System: sys, Loader: "ipxe", Settings: []ReportSetting{}, LastBoot: []registry.Event{}}
	from := map[string]ReportSetting{}
	for k, v := range snap.Settings() {
		from[k] = ReportSetting{k, v, "global"}
	}
	var args []string
	if p, ok := snap.Profile(sys.Profile); ok {
		rep.Image, rep.Template = p.Image, p.Kickstart
		if p.Loader != "" {
			rep.Loader = p.Loader
		}
		if img, ok := snap.Image(p.Image); ok {
			rep.ImageKind = img.Kind
		}
		if p.KernelArgs != "" {
			args = append(args, p.KernelArgs)
		}
		for k, v := range p.Settings {
			from[k] = ReportSetting{k, v, "profile " + p.Name}
		}
	}
	if sys.KernelArgs != "" {
		args = append(args, sys.KernelArgs)
	}
	rep.KernelArgs = strings.Join(args, " ")
	for k, v := range sys.Settings {
		from[k] = ReportSetting{k, v, "system"}
	}
	for _, k := range slices.Sorted(maps.Keys(from)) {
		rep.Settings = append(rep.Settings, from[k])
	}
	if s.BootURL != "" {
		rep.BootURL = s.BootURL + "/boot.ipxe"
	}
	if s.Events != nil {
		evs, err := s.Events.Events(r.Context(), name, 1000)
		if err != nil {
			fail(w, err)
			return
		}
		rep.LastBoot = append(rep.LastBoot, registry.Timeline(evs)...)
	}
	writeJSON(w, http.StatusOK, rep)
}
