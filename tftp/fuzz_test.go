package tftp

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolve checks that no name resolves to a path outside the root, that
// ".." and NUL are always refused, and that opening what resolve returns
// never reads the file a symlink in the root points to outside it.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{
		"undionly.kpxe", "/grub/grub.cfg", "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
		"grub.cfg-01-AA-BB-CC-DD-EE-02", "pxelinux.cfg/default", "../etc/passwd",
		`..\x`, "/../../", "a/./b/../c", "esc", "esc/x", "dir/../esc", "a\x00b",
		"pxelinux.cfg/01-aa-bb-cc-dd-ee-0", "grub.cfg-01-", "//", ".", "....//", "esc/secret",
	} {
		f.Add(seed)
	}
	root := f.TempDir()
	secret := []byte("outside the root")
	outside := filepath.Join(f.TempDir(), "secret")
	if err := os.WriteFile(outside, secret, 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(root, "esc")); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("inside"), 0o644); err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Root: root, Hosts: testHosts})
	if err != nil {
		f.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	h := &handler{srv: s, ctx: f.Context(), root: r}

	f.Fuzz(func(t *testing.T, name string) {
		c, err := s.resolve(name, netip.Addr{})
		if mustRefuse(name) && !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("resolve(%q) = %+v, %v; want a refusal", name, c, err)
		}
		if err != nil || c.file == "" {
			return
		}
		if !filepath.IsLocal(c.file) || path.Clean(c.file) != c.file {
			t.Fatalf("resolve(%q) = file %q, not a clean local path", name, c.file)
		}
		rc, _, err := h.open(c)
		if err != nil {
			return
		}
		defer rc.Close()
		got, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		if err == nil && bytes.Equal(got, secret) {
			t.Fatalf("resolve(%q) = %q: read the file outside the root", name, c.file)
		}
	})
}

// mustRefuse reports whether a name has a NUL byte or a ".." element.
func mustRefuse(name string) bool {
	if strings.IndexByte(name, 0) >= 0 {
		return true
	}
	for elem := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if elem == ".." {
			return true
		}
	}
	return false
}
