package api

import (
	"maps"
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
	r = expect(r, registry.ObjSubnet)
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
	if !decode(w, r, &in) || !s.prepareImage(w, r, &in) {
		return
	}
	v, err := s.Registry.AddImage(r.Context(), in)
	respond(w, http.StatusCreated, v, err)
}

// editImage replaces an image's files: a new kernel package rebuilds a
// diskless image's boot environment.
func (s *server) editImage(w http.ResponseWriter, r *http.Request) {
	var in registry.Image
	if !decode(w, r, &in) || !s.prepareImage(w, r, &in) {
		return
	}
	v, err := s.Registry.EditImage(r.Context(), r.PathValue("name"), in)
	respond(w, http.StatusOK, v, err)
}

// prepareImage checks that the files were uploaded and completes the
// image (PrepareImage), answering the error itself.
func (s *server) prepareImage(w http.ResponseWriter, r *http.Request, in *registry.Image) bool {
	for role, f := range in.Files {
		if !s.Blobs.Has(f.SHA256) {
			writeError(w, http.StatusBadRequest, "image "+in.Name+": "+role+" file sha256:"+f.SHA256+" was not uploaded")
			return false
		}
	}
	if in.Files == nil {
		in.Files = map[string]registry.File{}
	}
	if s.PrepareImage != nil && (in.Kind == registry.KindDiskless || in.Kind == registry.KindDisk) {
		if err := s.PrepareImage(r.Context(), in); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return false
		}
	}
	return true
}

// buildBootenv rebuilds the boot environment of the named diskless or disk images
// (every one with a kernel package when none is named), as after an
// upgrade of the appliance's busybox or zonecfg.
func (s *server) buildBootenv(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Images []string `json:"images"`
	}
	if !decode(w, r, &in) {
		return
	}
	snap := s.snap()
	names := in.Images
	if len(names) == 0 {
		for _, img := range snap.Images() {
			if _, ok := img.Files["kernel-package"]; ok && (img.Kind == registry.KindDiskless || img.Kind == registry.KindDisk) {
				names = append(names, img.Name)
			}
		}
	}
	out := []*registry.Image{}
	for _, name := range names {
		img, ok := snap.Image(name)
		if !ok {
			writeError(w, http.StatusNotFound, "image "+name+" not found")
			return
		}
		if _, ok := img.Files["kernel-package"]; !ok || (img.Kind != registry.KindDiskless && img.Kind != registry.KindDisk) {
			writeError(w, http.StatusBadRequest, "image "+name+" has no kernel package: its boot environment is not built by the appliance")
			return
		}
		next := *img
		next.Files = maps.Clone(img.Files)
		if !s.prepareImage(w, r, &next) {
			return
		}
		v, err := s.Registry.EditImage(r.Context(), name, next)
		if err != nil {
			respond(w, http.StatusOK, v, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, out)
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
	var in ProfileInput
	if !decode(w, r, &in) {
		return
	}
	in.SecretSettings = withSecretValues(in.SecretSettings, in.SecretValues)
	v, err := s.Registry.AddProfile(r.Context(), in.Profile)
	respond(w, http.StatusCreated, v, err)
}

func (s *server) editProfile(w http.ResponseWriter, r *http.Request) {
	var in ProfileInput
	if !decode(w, r, &in) {
		return
	}
	in.SecretSettings = withSecretValues(in.SecretSettings, in.SecretValues)
	r = expect(r, registry.ObjProfile)
	v, err := s.Registry.EditProfile(r.Context(), r.PathValue("name"), in.Profile)
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
	if v != nil {
		w.Header().Set("ETag", ETag(v))
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
