package cobbler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// A distro whose files are not here is an image registered without
// files, its profiles and systems imported, and the plan says how to
// upload them; a registry image of that name is kept as it is; an image
// awaiting its files gets the distro's when they are here.
func TestPlanDistroWithoutFiles(t *testing.T) {
	sha := strings.Repeat("a", 64)
	withFiles := registry.Image{Name: "d", Kind: "install", Files: map[string]registry.File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}}
	for _, c := range []struct {
		name     string
		edit     func(*Collection)
		reg      registry.Document
		files    int    // of image d in the document
		uploads  int    // of the plan
		existing bool   // image d
		without  string // the plan's line, "" for none
	}{
		{name: "missing kernel", edit: func(c *Collection) { c.Distros[0].Kernel = "/nonexistent/vmlinuz" },
			without: "image d: registered without files (kernel /nonexistent/vmlinuz: no such file): upload them with `provision image edit d --kernel FILE --initrd FILE`"},
		{name: "no initrd named", edit: func(c *Collection) { c.Distros[0].Initrd = "" },
			without: "image d: registered without files (the distro names no initrd): upload them with `provision image edit d --kernel FILE --initrd FILE`"},
		{name: "missing, in the registry", edit: func(c *Collection) { c.Distros[0].Kernel = "/nonexistent/vmlinuz" },
			reg: registry.Document{Images: []registry.Image{withFiles}}, files: 2, existing: true},
		{name: "awaiting its files in the registry", reg: registry.Document{Images: []registry.Image{{Name: "d", Kind: "install"}}},
			files: 2, uploads: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			coll := small(t, t.TempDir(), sys("web001", "52:54:00:00:00:01", "10.0.0.11"))
			if c.edit != nil {
				c.edit(coll)
			}
			p, err := Plan(coll, &c.reg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Conflicts) != 0 || len(p.Skipped) != 0 {
				t.Fatalf("conflicts %q, left out %v", p.Conflicts, p.Skipped)
			}
			if len(p.Doc.Images) != 1 || len(p.Doc.Images[0].Files) != c.files || len(p.Uploads) != c.uploads {
				t.Errorf("images %+v, uploads %+v; want %d files, %d uploads", p.Doc.Images, p.Uploads, c.files, c.uploads)
			}
			if _, ok := systemOf(p, "web001"); !ok || profileOf(p, "p").Image != "d" {
				t.Errorf("web001 and its profile p are not imported: %+v", p.Doc)
			}
			if got := slices.Contains(p.Existing, "image d"); got != c.existing {
				t.Errorf("image d existing: %v, want %v", got, c.existing)
			}
			var want []string
			if c.without != "" {
				want = []string{c.without}
			}
			if d := cmp.Diff(want, p.WithoutFiles); d != "" {
				t.Errorf("without files (-want +got):\n%s", d)
			}
		})
	}
}

// collectionsOnly writes, under dir, a copy of a Cobbler server's
// collections without its distro trees: the fixture's distros and
// profiles, and 50 clean systems of the fixture's shape (node001 to
// node050, on the six profiles) plus two deliberate conflicts: node051's
// MAC is not a MAC, node052 has the IP of legacy01 (collectionsOnlyReg).
func collectionsOnly(t *testing.T, dir string) {
	t.Helper()
	for _, kind := range []string{"distros", "profiles"} {
		files, _ := filepath.Glob(filepath.Join(fixture, "collections", kind, "*.json"))
		os.MkdirAll(filepath.Join(dir, "collections", kind), 0o755)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "collections", kind, filepath.Base(f)), b, 0o644)
		}
	}
	profiles := []string{"centos7-web", "centos7-base", "rocky9-db", "rocky9-rescue", "debian12-lb", "ubuntu22-app"}
	os.MkdirAll(filepath.Join(dir, "collections", "systems"), 0o755)
	for i := 1; i <= 52; i++ {
		name, mac, ip := fmt.Sprintf("node%03d", i), fmt.Sprintf("52:54:00:70:00:%02x", i), fmt.Sprintf("10.10.0.%d", 10+i)
		switch i {
		case 51:
			mac = "52:54:00:70:00:zz"
		case 52:
			ip = "10.10.0.250" // legacy01's
		}
		s := system(name, profiles[i%len(profiles)], name+".dc1.example.com", i%2 == 0, map[string]any{
			"eth0": iface(mac, ip, "255.255.255.0", "10.10.0.1", name+".dc1.example.com", true),
		})
		power(s, "ipmilanplus", fmt.Sprintf("10.0.1.%d", 10+i), "admin", "bmc-"+name)
		b, _ := json.MarshalIndent(s, "", "    ")
		os.WriteFile(filepath.Join(dir, "collections", "systems", name+".json"), b, 0o644)
	}
}

var collectionsOnlyReg = registry.Document{Systems: []registry.System{regSystem("legacy01", "52:54:00:99:00:01", "10.10.0.250")}}

// A copy of the collections without the distro files: the 50 clean
// systems are imported, under images registered without files; the two
// conflicts are reported, and only their systems left out.
func TestPlanCollectionsOnly(t *testing.T) {
	dir := t.TempDir()
	collectionsOnly(t, dir)
	c, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Plan(c, &collectionsOnlyReg, Options{Root: filepath.Join(dir, "root")}) // no distro tree there
	if err != nil {
		t.Fatal(err)
	}
	var conflicts []string
	for _, x := range p.Conflicts {
		conflicts = append(conflicts, x.Msg)
	}
	want := []string{`system node051: interface eth0: mac "52:54:00:70:00:zz" is not a MAC address`,
		"ip 10.10.0.250 of system node052 is already used by system legacy01 of the registry"}
	if d := cmp.Diff(want, conflicts); d != "" {
		t.Errorf("conflicts (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Skip{{"system node051", "in a conflict"}, {"system node052", "in a conflict"}}, p.Skipped); d != "" {
		t.Errorf("left out (-want +got):\n%s", d)
	}
	if len(p.Doc.Systems) != 50 || len(p.Doc.Profiles) != 6 || len(p.Doc.Images) != 4 || len(p.Uploads) != 0 || len(p.WithoutFiles) != 4 {
		t.Errorf("%d systems, %d profiles, %d images, %d uploads, %d without files; want 50, 6, 4, 0, 4",
			len(p.Doc.Systems), len(p.Doc.Profiles), len(p.Doc.Images), len(p.Uploads), len(p.WithoutFiles))
	}
	reg := registrytest.OpenZone(t, "internal")
	y, _ := p.YAML()
	rep, err := reg.Import(context.Background(), y, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Snapshot().Systems()); n != 50 || len(rep.Added) < 50+6+4 {
		t.Errorf("the registry has %d systems after the import (%d added), want 50", n, len(rep.Added))
	}
}
