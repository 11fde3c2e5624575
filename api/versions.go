package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/provision/provision/registry"
)

// Object versions. GET of a subnet, image, profile or system (and the
// answer of an edit) carries an ETag: a hash of the object's JSON, so any
// change to what a client can read changes it. PUT and PATCH take
// If-Match: the edit is refused with 412 when the object changed since
// the client read it, checked and written in one step. PATCH takes a
// JSON merge patch (RFC 7386) of the fields to change, applied to the
// object as it is when the change runs: two clients changing different
// fields both keep their change.

// ETag is the entity tag of an object: a quoted hash of its JSON.
func ETag(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// matchETag reports whether an If-Match header value lets tag through:
// "*" or a list holding tag (weak tags never match: RFC 9110 §13.1.1).
func matchETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == tag {
			return true
		}
	}
	return false
}

// expect makes the edit r asks for conditional on its If-Match header.
func expect(r *http.Request, kind string) *http.Request {
	want := r.Header.Get("If-Match")
	if want == "" {
		return r
	}
	return r.WithContext(registry.Expecting(r.Context(), kind, r.PathValue("name"),
		func(obj any) bool { return matchETag(want, ETag(obj)) }))
}

// maxPatchTries bounds how often a PATCH without If-Match is applied again
// to an object another writer changed in between.
const maxPatchTries = 5

// patchObject applies the merge patch in r's body to the object lookup
// finds, then apply writes the result. Without If-Match, a write that
// lost a race with another is done again on the new object.
func (s *server) patchObject(w http.ResponseWriter, r *http.Request, kind string,
	lookup func(*registry.Snapshot, string) (any, bool),
	apply func(ctx context.Context, cur any, merged []byte) (any, error)) {
	name := r.PathValue("name")
	var patch map[string]any
	if !decode(w, r, &patch) {
		return
	}
	want := r.Header.Get("If-Match")
	for try := 1; ; try++ {
		cur, ok := lookup(s.snap(), name)
		if !ok {
			writeError(w, http.StatusNotFound, kind+" "+name+" not found")
			return
		}
		tag := ETag(cur)
		if want != "" && !matchETag(want, tag) {
			writeError(w, http.StatusPreconditionFailed, fmt.Sprintf("%s %s changed since it was read (its ETag is now %s): read it again and redo the change", kind, name, tag))
			return
		}
		merged, changed, err := mergePatch(cur, patch)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("patch of %s %s: %v", kind, name, err))
			return
		}
		if !changed {
			w.Header().Set("ETag", tag)
			writeJSON(w, http.StatusOK, cur)
			return
		}
		ctx := registry.Expecting(r.Context(), kind, name, func(obj any) bool { return ETag(obj) == tag })
		v, err := apply(ctx, cur, merged)
		if errors.Is(err, registry.ErrChanged) && want == "" && try < maxPatchTries {
			continue
		}
		if err != nil {
			fail(w, err)
			return
		}
		w.Header().Set("ETag", ETag(v))
		writeJSON(w, http.StatusOK, v)
		return
	}
}

// mergePatch applies an RFC 7386 merge patch to the JSON of cur, and says
// whether it changed anything.
func mergePatch(cur any, patch map[string]any) ([]byte, bool, error) {
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, false, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, false, err
	}
	out, err := json.Marshal(mergeValue(doc, patch))
	if err != nil {
		return nil, false, err
	}
	// Both are marshaled maps, keys sorted: equal bytes, equal objects.
	again, _ := json.Marshal(doc)
	return out, !bytes.Equal(out, again), nil
}

// mergeValue is RFC 7386's MergePatch(target, patch).
func mergeValue(target any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	} else {
		c := make(map[string]any, len(t))
		for k, v := range t {
			c[k] = v
		}
		t = c
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergeValue(t[k], v)
		}
	}
	return t
}

// decodeStrict decodes merged JSON into v, refusing unknown fields.
func decodeStrict(b []byte, v any, kind, name string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &registry.Error{Kind: registry.ErrInvalid, Msg: fmt.Sprintf("patch of %s %s: %v", kind, name, err)}
	}
	return nil
}

func (s *server) patchSubnet(w http.ResponseWriter, r *http.Request) {
	s.patchObject(w, r, registry.ObjSubnet,
		func(sn *registry.Snapshot, n string) (any, bool) { return sn.Subnet(n) },
		func(ctx context.Context, _ any, merged []byte) (any, error) {
			var in registry.Subnet
			if err := decodeStrict(merged, &in, "subnet", r.PathValue("name")); err != nil {
				return nil, err
			}
			return s.Registry.EditSubnet(ctx, r.PathValue("name"), in)
		})
}

func (s *server) patchProfile(w http.ResponseWriter, r *http.Request) {
	s.patchObject(w, r, registry.ObjProfile,
		func(sn *registry.Snapshot, n string) (any, bool) { return sn.Profile(n) },
		func(ctx context.Context, _ any, merged []byte) (any, error) {
			var in ProfileInput
			if err := decodeStrict(merged, &in, "profile", r.PathValue("name")); err != nil {
				return nil, err
			}
			in.SecretSettings = withSecretValues(in.SecretSettings, in.SecretValues)
			return s.Registry.EditProfile(ctx, r.PathValue("name"), in.Profile)
		})
}

func (s *server) patchSystem(w http.ResponseWriter, r *http.Request) {
	s.patchObject(w, r, registry.ObjSystem,
		func(sn *registry.Snapshot, n string) (any, bool) { return sn.SystemByName(n) },
		func(ctx context.Context, _ any, merged []byte) (any, error) {
			var in SystemInput
			if err := decodeStrict(merged, &in, "system", r.PathValue("name")); err != nil {
				return nil, err
			}
			if in.BMCPassword != "" {
				if in.BMC == nil {
					return nil, &registry.Error{Kind: registry.ErrInvalid, Msg: "system " + r.PathValue("name") + ": bmc_password without a bmc address"}
				}
				in.BMC.Password = registry.Secret(in.BMCPassword)
			}
			in.SecretSettings = withSecretValues(in.SecretSettings, in.SecretValues)
			return s.Registry.EditSystem(ctx, r.PathValue("name"), in.System)
		})
}
