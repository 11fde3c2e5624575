package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/provision/provision/access"
	"net/http"

	"github.com/provision/provision/registry"
)

const maxJSONBody = 1 << 20 // settings values are at most 64 KiB

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error  string   `json:"error"`
	Errors []string `json:"errors,omitempty"` // every problem of an import
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorBody{Error: msg})
}

// fail maps a registry error to its HTTP status.
func fail(w http.ResponseWriter, err error) {
	var es registry.Errors
	if errors.As(err, &es) {
		body := ErrorBody{Error: fmt.Sprintf("%d problems, nothing was written", len(es))}
		for _, e := range es {
			body.Errors = append(body.Errors, e.Error())
		}
		writeJSON(w, http.StatusConflict, body)
		return
	}
	status := http.StatusInternalServerError
	var denied *access.Denied
	switch {
	case errors.As(err, &denied):
		status = http.StatusForbidden
	case errors.Is(err, registry.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, registry.ErrConflict), errors.Is(err, registry.ErrInUse):
		status = http.StatusConflict
	case errors.Is(err, registry.ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, registry.ErrChanged):
		status = http.StatusPreconditionFailed
	case errors.Is(err, registry.ErrUnavailable):
		status = http.StatusServiceUnavailable
	}
	writeError(w, status, err.Error())
}

// decode reads a JSON body into v, refusing unknown fields and bodies over
// maxJSONBody.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", maxJSONBody))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func found[T any](w http.ResponseWriter, v *T, ok bool, kind, name string) {
	if !ok {
		writeError(w, http.StatusNotFound, kind+" "+name+" not found")
		return
	}
	w.Header().Set("ETag", ETag(v))
	writeJSON(w, http.StatusOK, v)
}
