package api

import (
	"net/http"

	"github.com/provision/provision/bind"
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
// with RenderPlaceholderToken for its build token, and its secret
// settings masked unless ?secrets=1 (which needs the admin token) asks
// for them.
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
	server := s.bootURL(r)
	d := bind.TemplateData(snap, sys, kickstart.BuildURLs(server, p.Image, RenderPlaceholderToken, s.Mirrors), s.DNS)
	if !wantSecrets(r) {
		registry.MaskSecrets(&d)
	}
	out, err := snap.Templates().RenderContext(r.Context(), name, d) // bounded: kickstart.RenderTimeout, MaxRenderSize
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "system "+sysName+": "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(out)
}
