package api

import (
	"net/http"
	"strconv"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// RenderPlaceholderToken stands in for the build token in a template
// rendered through the API: tokens are never sent there.
const RenderPlaceholderToken = "BUILD-TOKEN"

func (s *server) listTemplates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().TemplateList())
}

func (s *server) showTemplate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, t := range s.snap().TemplateList() {
		if t.Name == name {
			writeJSON(w, http.StatusOK, t)
			return
		}
	}
	writeError(w, http.StatusNotFound, "template "+name+" not found")
}

func (s *server) addTemplate(w http.ResponseWriter, r *http.Request) {
	var in kickstart.Template
	if decode(w, r, &in) {
		v, err := s.Registry.AddTemplate(r.Context(), in)
		respond(w, http.StatusCreated, v, err)
	}
}

func (s *server) editTemplate(w http.ResponseWriter, r *http.Request) {
	var in kickstart.Template
	if !decode(w, r, &in) {
		return
	}
	if in.Name != r.PathValue("name") {
		writeError(w, http.StatusBadRequest, "template "+r.PathValue("name")+": a template cannot be renamed (add one and remove the other)")
		return
	}
	v, err := s.Registry.EditTemplate(r.Context(), in)
	respond(w, http.StatusOK, v, err)
}

func (s *server) removeTemplate(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveTemplate(r.Context(), r.PathValue("name")))
}

// renderTemplate shows what ?system=SYS would get from the template,
// with RenderPlaceholderToken for its build token.
func (s *server) renderTemplate(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	name, sysName := r.PathValue("name"), r.URL.Query().Get("system")
	sys, ok := snap.SystemByName(sysName)
	if !ok {
		writeError(w, http.StatusNotFound, "system "+sysName+" not found")
		return
	}
	if _, ok := snap.Templates().Lookup(name); !ok {
		writeError(w, http.StatusNotFound, "template "+name+" not found")
		return
	}
	p, _ := snap.Profile(sys.Profile)
	server := "http://" + r.Host
	if s.BootURL != "" {
		server = s.BootURL
	}
	d := snap.TemplateData(sys, kickstart.BuildURLs(server, p.Image, RenderPlaceholderToken))
	if len(d.System.DNS) == 0 && s.DNS != "" {
		d.System.DNS = []string{s.DNS}
	}
	out, err := snap.Templates().Render(name, d)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "system "+sysName+": "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(out)
}

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
	if v.BMC != nil {
		if res.Power, err = s.powerForBuild(r.Context(), v); err != nil {
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
	if err == nil && s.BuildFailed != nil {
		s.BuildFailed(v.Name)
	}
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
