package api

import (
	"maps"
	"net/http"
	"slices"
	"time"

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
	// Boot is what a network boot of the system does now: "netboot", or
	// "local disk" with why (its state, "netboot off", ...).
	Boot string `json:"boot"`
	// Cmdline is the kernel command line a network boot passes
	// (registry.Snapshot.KernelArgs, as pxelinux and GRUB pass it; iPXE
	// adds its initrd=initrd first), from BootURL's server, with
	// RenderPlaceholderToken for a build's token; CmdlineError says why
	// there is none.
	Cmdline      string           `json:"cmdline,omitempty"`
	CmdlineError string           `json:"cmdline_error,omitempty"`
	BootURL      string           `json:"boot_url,omitempty"`
	Interfaces   []InterfaceView  `json:"interfaces"` // the system's network interfaces, eth0... for one with MACs only
	Settings     []ReportSetting  `json:"settings"`
	LastBoot     []registry.Event `json:"last_boot"` // the timeline of system status
}

// ReportSetting is an effective setting and where it comes from: global,
// profile NAME or system. A secret setting (Secret) has no value here.
type ReportSetting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	From   string `json:"from"`
	Secret bool   `json:"secret,omitempty"`
}

func (s *server) systemReport(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	name := r.PathValue("name")
	sys, ok := snap.SystemByName(name)
	if !ok {
		writeError(w, http.StatusNotFound, "system "+name+" not found")
		return
	}
	plan := snap.BootPlan(sys, time.Now())
	rep := Report{System: sys, Loader: plan.Loader, KernelArgs: snap.OperatorArgs(sys), Boot: bootOf(plan),
		Settings: []ReportSetting{}, LastBoot: []registry.Event{}}
	rep.Cmdline, rep.CmdlineError = s.cmdline(r, snap, sys, plan)
	rep.Interfaces = Interfaces(sys)
	if img := plan.Image; img != nil {
		rep.Image, rep.ImageKind = img.Name, img.Kind
	}
	if p, ok := snap.Profile(sys.Profile); ok {
		rep.Template = p.Kickstart
	}
	rep.Settings = EffectiveSettings(snap, sys)
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

// EffectiveSettings are sys's settings as its templates see them, sorted
// by key, each with where it comes from: each level (global, profile,
// system) overrides the ones above it, whatever the kind
// (registry.Snapshot.TemplateData). A secret one has no value. The
// report and the Ansible inventory show them.
func EffectiveSettings(snap *registry.Snapshot, sys *registry.System) []ReportSetting {
	from := map[string]ReportSetting{}
	level := func(where string, plain map[string]string, secret []string) {
		for k, v := range plain {
			from[k] = ReportSetting{Key: k, Value: v, From: where}
		}
		for _, k := range secret {
			from[k] = ReportSetting{Key: k, From: where, Secret: true}
		}
	}
	level("global", snap.Settings(), snap.SecretKeys())
	if p, ok := snap.Profile(sys.Profile); ok {
		level("profile "+p.Name, p.Settings, p.SecretSettings.Keys())
	}
	level("system", sys.Settings, sys.SecretSettings.Keys())
	out := []ReportSetting{}
	for _, k := range slices.Sorted(maps.Keys(from)) {
		out = append(out, from[k])
	}
	return out
}

// bootOf says what plan boots, for the report.
func bootOf(plan registry.BootPlan) string {
	switch {
	case plan.Netboot && plan.Install != nil:
		return "netboot: the installer of its " + plan.Install.Kind + " template"
	case plan.Netboot:
		return "netboot"
	case plan.Reason == "":
		return "local disk: netboot off"
	}
	return "local disk: " + plan.Reason
}

// cmdline is the kernel command line of sys's network boot as plan says,
// from the appliance's boot URL (else the address the request came to), with
// RenderPlaceholderToken for a build's token, which the API never shows;
// or why there is none.
func (s *server) cmdline(r *http.Request, snap *registry.Snapshot, sys *registry.System, plan registry.BootPlan) (string, string) {
	if !plan.Netboot {
		return "", ""
	}
	if plan.Install != nil {
		in := *plan.Install
		in.Token = RenderPlaceholderToken
		plan.Install = &in
	}
	server := s.bootURL(r)
	line, err := snap.KernelArgs(sys, plan, registry.BootVia{Server: server})
	if err != nil {
		return "", err.Error()
	}
	return line, ""
}
