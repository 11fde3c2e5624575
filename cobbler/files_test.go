package cobbler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// confinedTree is a Cobbler server's copy (root) with a distro's files
// under /distro, and a file outside it (secret) that links point at.
func confinedTree(t *testing.T) (root, secret string) {
	t.Helper()
	root = t.TempDir()
	secret = filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("PGPASSWORD=hunter2"), 0o600)
	os.MkdirAll(filepath.Join(root, "distro"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/cobbler/templates"), 0o755)
	for _, f := range []string{"distro/vmlinuz", "distro/initrd.img"} {
		os.WriteFile(filepath.Join(root, f), []byte(f), 0o644)
	}
	os.WriteFile(filepath.Join(root, "var/lib/cobbler/templates/plain.ks"), []byte("text\n"), 0o644)
	os.Symlink(secret, filepath.Join(root, "distro/abs-link"))
	rel, _ := filepath.Rel(filepath.Join(root, "distro"), secret)
	os.Symlink(rel, filepath.Join(root, "distro/rel-link"))
	os.Symlink(secret, filepath.Join(root, "var/lib/cobbler/templates/link.ks"))
	return root, secret
}

func confinedCollection(kernel, autoinstall string) *Collection {
	c := &Collection{Others: map[string]int{}}
	c.Distros = append(c.Distros, decodeDistro(map[string]any{"name": "d", "breed": "redhat", "kernel": kernel, "initrd": "/distro/initrd.img"}, "d.json"))
	c.Profiles = append(c.Profiles, decodeProfile(map[string]any{"name": "p", "distro": "d", "autoinstall": autoinstall}, "p.json"))
	return c
}

// TestPlanConfinedToRoot: a distro's kernel or a profile's template that
// lies outside --root (through "/../..", or a symbolic link out) is
// refused, with a conflict naming the path, and nothing of it is read
// into the plan.
func TestPlanConfinedToRoot(t *testing.T) {
	root, secret := confinedTree(t)
	rel, _ := filepath.Rel(filepath.Join(root, "var/lib/cobbler/templates"), secret)
	for _, tc := range []struct{ name, kernel, autoinstall, want string }{
		{"kernel dot-dot", "/../../../../../../../../etc/passwd", "", "kernel " + root + "/../../../../../../../../etc/passwd"},
		{"kernel dot-dot inside a path", "/distro/../../../../../../../../etc/passwd", "", "/distro/../../"},
		{"kernel link to an absolute path", "/distro/abs-link", "", "/distro/abs-link"},
		{"kernel link climbing out", "/distro/rel-link", "", "/distro/rel-link"},
		{"template by absolute path, dot-dot", "/distro/vmlinuz", "/../../../../../../../../etc/passwd", "template /../../../../../../../../etc/passwd"},
		{"template by name, dot-dot", "/distro/vmlinuz", rel, "template " + rel},
		{"template link out", "/distro/vmlinuz", "link.ks", "link.ks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Plan(confinedCollection(tc.kernel, tc.autoinstall), nil, Options{Root: root})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, c := range p.Conflicts {
				msgs = append(msgs, c.Msg)
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tc.want) {
				t.Errorf("no conflict naming %q; conflicts: %q", tc.want, msgs)
			}
			for _, u := range p.Uploads {
				if b, _ := os.ReadFile(u.Path); strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "root:") {
					t.Errorf("upload %s %s reads a file outside the root", u.Role, u.Path)
				}
			}
			for _, tm := range p.Doc.Templates {
				if strings.Contains(tm.Text, "hunter2") || strings.Contains(tm.Text, "root:") {
					t.Errorf("template %s holds a file outside the root", tm.Name)
				}
			}
		})
	}
	p, err := Plan(confinedCollection("/distro/vmlinuz", "plain.ks"), nil, Options{Root: root})
	if err != nil || len(p.Conflicts) != 0 || len(p.Uploads) != 2 || len(p.Doc.Templates) != 1 {
		t.Fatalf("files inside the root: %v, conflicts %v, %d uploads, %d templates", err, p.Conflicts, len(p.Uploads), len(p.Doc.Templates))
	}
}
