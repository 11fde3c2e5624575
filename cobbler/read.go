package cobbler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// kinds are the collections Read maps, by directory name.
var kinds = []string{"distros", "profiles", "systems"}

// otherKinds are Cobbler 3's other collections: read to be counted, never
// imported (see Unsupported).
var otherKinds = []string{"repos", "images", "mgmtclasses", "packages", "files", "menus"}

// Read reads Cobbler's objects from dir: /var/lib/cobbler (or a copy of
// it), its collections directory, or one JSON file holding an object or an
// array of objects (distros, profiles and systems, told apart by their
// fields).
func Read(dir string) (*Collection, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	c := &Collection{Dir: dir, Others: map[string]int{}}
	if !st.IsDir() {
		return c, c.readFile(dir)
	}
	coll := filepath.Join(dir, "collections")
	c.Base = dir
	if !isDir(coll) {
		coll, c.Base = dir, filepath.Dir(dir)
	}
	found := false
	for _, kind := range append(slices.Clone(kinds), otherKinds...) {
		if isDir(filepath.Join(coll, kind)) {
			found = found || slices.Contains(kinds, kind)
			if err := c.readKind(filepath.Join(coll, kind), kind); err != nil {
				return nil, err
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no Cobbler collections (collections/distros, profiles, systems) in it", dir)
	}
	return c, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readKind reads every KIND/*.json, in name order.
func (c *Collection) readKind(dir, kind string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		items, err := decodeFile(f)
		if err != nil {
			return err
		}
		for _, m := range items {
			c.add(kind, m, f)
		}
	}
	return nil
}

// readFile reads one file of objects of any kind.
func (c *Collection) readFile(path string) error {
	items, err := decodeFile(path)
	if err != nil {
		return err
	}
	for i, m := range items {
		kind := kindOf(m)
		if kind == "" {
			return fmt.Errorf("%s: object %d (%q) is neither a distro, a profile nor a system", path, i+1, str(m["name"]))
		}
		c.add(kind, m, path)
	}
	return nil
}

func (c *Collection) add(kind string, m map[string]any, file string) {
	switch kind {
	case "distros":
		c.Distros = append(c.Distros, decodeDistro(m, file))
	case "profiles":
		c.Profiles = append(c.Profiles, decodeProfile(m, file))
	case "systems":
		c.Systems = append(c.Systems, decodeSystem(m, file))
	default:
		c.Others[kind]++
	}
}

// kindOf tells a system (it has interfaces), a distro (a kernel) and a
// profile (a distro or a parent) apart.
func kindOf(m map[string]any) string {
	_, ifaces := m["interfaces"]
	_, kernel := m["kernel"]
	_, distro := m["distro"]
	_, parent := m["parent"]
	switch {
	case ifaces:
		return "systems"
	case kernel:
		return "distros"
	case distro || parent:
		return "profiles"
	}
	return ""
}

// decodeFile reads a JSON object, an array of objects, or an object of
// {"distros": [...], "profiles": [...], "systems": [...]}.
func decodeFile(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var items []map[string]any
	switch x := v.(type) {
	case map[string]any:
		if !hasKinds(x) {
			return []map[string]any{x}, nil
		}
		for _, k := range kinds {
			arr, _ := x[k].([]any)
			for _, e := range arr {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s: %s: an element is not an object", path, k)
				}
				items = append(items, m)
			}
		}
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: an element of the array is not an object", path)
			}
			items = append(items, m)
		}
	default:
		return nil, errors.New(path + ": not a JSON object or array of objects")
	}
	return items, nil
}

func hasKinds(m map[string]any) bool {
	for _, k := range kinds {
		if _, ok := m[k].([]any); ok {
			return true
		}
	}
	return false
}
