package api

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/provision/provision/registry"
)

const maxImportBody = 64 << 20

// BlobRef is the answer to an upload.
type BlobRef struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func (s *server) putBlob(w http.ResponseWriter, r *http.Request) {
	// An image file may take minutes to arrive: the server's read timeout
	// is for requests from anyone, and this one carries the token.
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	digest, size, err := s.Blobs.Put(r.Body, r.URL.Query().Get("sha256"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, BlobRef{digest, size})
}

func (s *server) listSettings(w http.ResponseWriter, r *http.Request) {
	m := s.snap().Settings()
	out := make([]registry.Setting, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, registry.Setting{Key: k, Value: m[k]})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) getSetting(w http.ResponseWriter, r *http.Request) {
	k, err := registry.CheckSettingKey(r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	v, ok := s.snap().Setting(k)
	found(w, &registry.Setting{Key: k, Value: v}, ok, "setting", k)
}

func (s *server) setSetting(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value string `json:"value"`
	}
	if decode(w, r, &in) {
		v, err := s.Registry.SetSetting(r.Context(), r.PathValue("key"), in.Value)
		respond(w, http.StatusOK, v, err)
	}
}

func (s *server) unsetSetting(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.UnsetSetting(r.Context(), r.PathValue("key")))
}

func (s *server) export(w http.ResponseWriter, r *http.Request) {
	out, err := s.snap().Export(r.URL.Query().Get("secrets") != "")
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(out)
}

func (s *server) importDoc(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("import over %d bytes", maxImportBody))
			return
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	dry := r.URL.Query().Get("dry_run") != ""
	rep, err := s.Registry.Import(r.Context(), data, dry)
	respond(w, http.StatusOK, rep, err)
}

func (s *server) history(w http.ResponseWriter, r *http.Request) {
	limit := 1000
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive number")
			return
		}
		limit = n
	}
	h, err := s.Registry.History(r.Context(), r.URL.Query().Get("name"), limit)
	if err != nil {
		fail(w, err)
		return
	}
	if name := r.URL.Query().Get("name"); len(h) == 0 && name != "" {
		writeError(w, http.StatusNotFound, "no history of "+name+": nothing of that name was ever added")
		return
	}
	if h == nil {
		h = []registry.Change{}
	}
	writeJSON(w, http.StatusOK, h)
}
