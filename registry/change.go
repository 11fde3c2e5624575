package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// FieldChange is one field of an object that a Change changed: its
// dotted path (settings.role, bmc.address) and its old and new values as
// text, "" where there was none.
type FieldChange struct {
	Field, Old, New string
}

// Diff lists the fields an edit changed, by path; lists are compared
// joined by commas. A rename's own name is left out (RenamedFrom says
// it). It is nil when the change does not hold both the old and the new
// object (add, remove).
func (ch Change) Diff() []FieldChange {
	var oldObj, newObj map[string]any
	json.Unmarshal([]byte(ch.Old), &oldObj)
	json.Unmarshal([]byte(ch.New), &newObj)
	if oldObj == nil || newObj == nil {
		return nil
	}
	o, n := flatten("", oldObj), flatten("", newObj)
	keys := slices.Sorted(maps.Keys(o))
	for k := range n {
		if _, ok := o[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []FieldChange
	for _, k := range keys {
		if k == "name" && ch.Op == "rename" || o[k] == n[k] {
			continue
		}
		out = append(out, FieldChange{Field: k, Old: o[k], New: n[k]})
	}
	return out
}

// RenamedFrom is the name an object had before a rename, or "".
func (ch Change) RenamedFrom() string {
	if ch.Op != "rename" {
		return ""
	}
	var old struct {
		Name string `json:"name"`
	}
	json.Unmarshal([]byte(ch.Old), &old)
	return old.Name
}

// Document is the change as JSON for people and scripts: old and new as
// objects rather than strings, empty fields left out.
func (ch Change) Document() map[string]any {
	m := map[string]any{"id": ch.ID, "at": ch.At, "kind": ch.Kind, "name": ch.Name, "op": ch.Op}
	for k, v := range map[string]string{"note": ch.Note, "by": ch.By, "from": ch.From} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]string{"old": ch.Old, "new": ch.New} {
		if v != "" && json.Valid([]byte(v)) {
			m[k] = json.RawMessage(v)
		}
	}
	return m
}

// flatten turns a JSON object into dotted paths and their values as text
// (lists joined by commas).
func flatten(prefix string, v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			maps.Copy(out, flatten(p, sub))
		}
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		out[prefix] = strings.Join(parts, ",")
	case nil:
	default:
		out[prefix] = fmt.Sprint(x)
	}
	return out
}
