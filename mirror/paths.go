package mirror

import (
	"fmt"
	"path"
	"strings"
)

// cleanPath checks and cleans the path after /NAME/. It refuses "..",
// NUL and other control characters, and backslashes, rather than
// resolving them; a trailing slash (a directory listing) is kept.
func cleanPath(p string) (string, error) {
	if i := strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }); i >= 0 {
		return "", fmt.Errorf("path %q: control character or backslash at byte %d", p, i)
	}
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return "", fmt.Errorf("path %q: \"..\"", p)
		}
	}
	clean := strings.TrimPrefix(path.Clean("/"+p), "/")
	if strings.HasSuffix(p, "/") && clean != "" {
		clean += "/"
	}
	return clean, nil
}

// immutable reports whether the file at p never changes once published:
// pool files, by-hash indexes, packages, and RHEL repodata other than
// repomd.xml (which names the others by checksum). They are cached on
// disk; everything else is an index revalidated against upstream.
func immutable(p string) bool {
	base := path.Base(p)
	switch {
	case p == "" || strings.HasSuffix(p, "/"):
		return false
	case strings.HasPrefix(p, "pool/"), strings.Contains(p, "/by-hash/"):
		return true
	case strings.HasPrefix(p, "repodata/") || strings.Contains(p, "/repodata/"):
		return !strings.HasPrefix(base, "repomd.xml")
	}
	switch path.Ext(base) {
	case ".deb", ".udeb", ".rpm", ".drpm":
		return true
	}
	return false
}
