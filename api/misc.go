package api

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
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

// listSettings lists the global settings, sorted by key; a secret one
// without its value.
func (s *server) listSettings(w http.ResponseWriter, r *http.Request) {
	snap := s.snap()
	m := snap.Settings()
	out := make([]registry.Setting, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, registry.Setting{Key: k, Value: m[k]})
	}
	for _, k := range snap.SecretKeys() {
		out = append(out, registry.Setting{Key: k, Secret: true})
	}
	slices.SortFunc(out, func(a, b registry.Setting) int { return strings.Compare(a.Key, b.Key) })
	writeJSON(w, http.StatusOK, out)
}

// getSetting answers a global setting; a secret one with its value only
// for ?secrets=1 (which needs the admin token).
func (s *server) getSetting(w http.ResponseWriter, r *http.Request) {
	k, err := registry.CheckSettingKey(r.PathValue("key"))
	if err != nil {
		fail(w, err)
		return
	}
	if v, ok := s.snap().SecretSetting(k); ok {
		out := &registry.Setting{Key: k, Secret: true}
		if wantSecrets(r) {
			out.Value = string(v)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	v, ok := s.snap().Setting(k)
	found(w, &registry.Setting{Key: k, Value: v}, ok, "setting", k)
}

// setSetting sets a global setting: {"value": V}, or {"value": V,
// "secret": true} for a secret one (answered without its value).
func (s *server) setSetting(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Value  string `json:"value"`
		Secret bool   `json:"secret"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Secret {
		v, err := s.Registry.SetSecretSetting(r.Context(), r.PathValue("key"), registry.Secret(in.Value))
		if err != nil {
			fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, &registry.Setting{Key: v.Key, Secret: true})
		return
	}
	v, err := s.Registry.SetSetting(r.Context(), r.PathValue("key"), in.Value)
	respond(w, http.StatusOK, v, err)
}

func (s *server) unsetSetting(w http.ResponseWriter, r *http.Request) {
	removed(w, s.Registry.UnsetSetting(r.Context(), r.PathValue("key")))
}

func (s *server) export(w http.ResponseWriter, r *http.Request) {
	out, err := s.snap().Export(wantSecrets(r))
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
	if s.AfterBulk != nil && len(data) >= bulkImport {
		s.AfterBulk()
	}
}

// bulkImport is the size from which an import document is a bulk one:
// Config.AfterBulk runs once it is answered.
const bulkImport = 1 << 20

// history answers the last records, newest last: ?limit=N (default
// historyPage, at most historyMax), ?before=ID for the page before,
// which the Link of a full page names.
func (s *server) history(w http.ResponseWriter, r *http.Request) {
	limit, ok := pageLimit(w, r, historyPage, historyMax)
	if !ok {
		return
	}
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("before %q: want a history record's id", b))
			return
		}
		before = n
	}
	h, err := s.Registry.HistoryBefore(r.Context(), r.URL.Query().Get("name"), before, limit)
	if err != nil {
		fail(w, err)
		return
	}
	if len(h) == limit && h[0].ID > 1 {
		linkNext(w, r, "before", strconv.FormatInt(h[0].ID, 10), limit)
	}
	if name := r.URL.Query().Get("name"); len(h) == 0 && name != "" && before == 0 {
		writeError(w, http.StatusNotFound, "no history of "+name+": nothing of that name was ever added")
		return
	}
	if h == nil {
		h = []registry.Change{}
	}
	writeJSON(w, http.StatusOK, h)
}

// wantSecrets reports whether the request asks for secrets: ?secrets=1
// (or true); ?secrets=0 and false do not (they used to, as any value
// did), and a value that is not a boolean still does, as before.
func wantSecrets(r *http.Request) bool {
	v := r.URL.Query().Get("secrets")
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}
