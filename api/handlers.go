package api

import (
	"net/http"

	"github.com/provision/provision/registry"
)

func (s *server) snap() *registry.Snapshot { return s.Registry.Snapshot() }

func (s *server) listSubnets(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().Subnets())
}

func (s *server) showSubnet(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().Subnet(r.PathValue("name"))
	found(w, v, ok, "subnet", r.PathValue("name"))
}

func (s *server) addSubnet(w http.ResponseWriter, r *http.Request) {
	var in registry.Subnet
	if !decode(w, r, &in) {
		return
	}
	v, err := s.Registry.AddSubnet(r.Context(), in)
	respond(w, http.StatusCreated, v, err)
}

func (s *server) editSubnet(w http.ResponseWriter, r *http.Request) {
	var in registry.Subnet
	if !decode(w, r, &in) {
		return
	}
	v, err := s.Registry.EditSubnet(r.Context(), r.PathValue("name"), in)
	respond(w, http.StatusOK, v, err)
}

func (s *server) removeSubnet(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveSubnet(r.Context(), r.PathValue("name")))
}

func (s *server) listImages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().Images())
}

func (s *server) showImage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().Image(r.PathValue("name"))
	found(w, v, ok, "image", r.PathValue("name"))
}

func (s *server) addImage(w http.ResponseWriter, r *http.Request) {
	var in registry.Image
	if !decode(w, r, &in) {
		return
	}
	for role, f := range in.Files {
		if !s.Blobs.Has(f.SHA256) {
			writeError(w, http.StatusBadRequest, "image "+in.Name+": "+role+" file sha256:"+f.SHA256+" was not uploaded")
			return
		}
	}
	v, err := s.Registry.AddImage(r.Context(), in)
	respond(w, http.StatusCreated, v, err)
}

func (s *server) removeImage(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveImage(r.Context(), r.PathValue("name")))
}

func (s *server) listProfiles(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snap().Profiles())
}

func (s *server) showProfile(w http.ResponseWriter, r *http.Request) {
	v, ok := s.snap().Profile(r.PathValue("name"))
	found(w, v, ok, "profile", r.PathValue("name"))
}

func (s *server) addProfile(w http.ResponseWriter, r *http.Request) {
	var in registry.Profile
	if !decode(w, r, &in) {
		return
	}
	v, err := s.Registry.AddProfile(r.Context(), in)
	respond(w, http.StatusCreated, v, err)
}

func (s *server) editProfile(w http.ResponseWriter, r *http.Request) {
	var in registry.Profile
	if !decode(w, r, &in) {
		return
	}
	v, err := s.Registry.EditProfile(r.Context(), r.PathValue("name"), in)
	respond(w, http.StatusOK, v, err)
}

func (s *server) removeProfile(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.RemoveProfile(r.Context(), r.PathValue("name")))
}

func respond[T any](w http.ResponseWriter, status int, v *T, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, status, v)
}

func removed(w http.ResponseWriter, err error) {
	if err != nil {
		fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
