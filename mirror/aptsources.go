package mirror

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// AptSources returns the archives of the apt sources under root ("/" in
// production): root/etc/apt/sources.list, then root/etc/apt/sources.list.d/
// *.list (one-line "deb [opts] URI suite comps") and *.sources (deb822) in
// name order, as apt reads them. Only "deb" entries with http or https
// URIs count; an archive is named after its URI's last path element, and
// the first of a name wins.
func AptSources(root string) ([]Archive, error) {
	files := []string{filepath.Join(root, "etc/apt/sources.list")}
	d := filepath.Join(root, "etc/apt/sources.list.d")
	names, err := os.ReadDir(d)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("apt sources %s: %w", d, err)
	}
	for _, n := range names {
		if ext := path.Ext(n.Name()); ext == ".list" || ext == ".sources" {
			files = append(files, filepath.Join(d, n.Name()))
		}
	}
	var uris []string
	for _, f := range files {
		u, err := sourceURIs(f)
		if err != nil {
			return nil, err
		}
		uris = append(uris, u...)
	}
	return archivesOf(uris), nil
}

// sourceURIs reads the "deb" URIs of one file; a missing file has none.
func sourceURIs(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("apt sources %s: %w", file, err)
	}
	if strings.HasSuffix(file, ".sources") {
		return deb822URIs(b), nil
	}
	return oneLineURIs(b), nil
}

// oneLineURIs reads "deb [opt=v opt=v] URI suite comps" lines.
func oneLineURIs(b []byte) []string {
	var uris []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			i := slices.IndexFunc(f, func(s string) bool { return strings.HasSuffix(s, "]") })
			f = f[i+1:] // i is -1 for an unclosed bracket: f[0] is then read as the URI and fails
		}
		if len(f) > 0 {
			uris = append(uris, f[0])
		}
	}
	return uris
}

// deb822URIs reads the stanzas of a .sources file: Types, URIs, Enabled.
func deb822URIs(b []byte) []string {
	var uris []string
	for _, stanza := range deb822Stanzas(b) {
		if slices.Contains(strings.Fields(stanza["types"]), "deb") && stanza["enabled"] != "no" {
			uris = append(uris, strings.Fields(stanza["uris"])...)
		}
	}
	return uris
}

// deb822Stanzas splits b into stanzas of lower-cased field names;
// continuation lines (leading space) extend the previous field.
func deb822Stanzas(b []byte) []map[string]string {
	var out []map[string]string
	cur, last := map[string]string{}, ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out, cur = append(out, cur), map[string]string{}
			}
		case line[0] == ' ' || line[0] == '\t':
			cur[last] += " " + strings.TrimSpace(line)
		default:
			k, v, _ := strings.Cut(line, ":")
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// archivesOf turns URIs into archives: http(s) only, a usable name, the
// first of each name.
func archivesOf(uris []string) []Archive {
	var out []Archive
	for _, raw := range uris {
		a, err := ParseArchive(raw)
		if err != nil || slices.ContainsFunc(out, func(b Archive) bool { return b.Name == a.Name }) {
			continue
		}
		out = append(out, a)
	}
	return out
}
