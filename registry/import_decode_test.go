package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// entries is n systems as block sequence entries indented by indent.
func entries(n int, indent string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s- name: s%d\n%s  macs: [\"%s\"]\n%s  ip: %s\n%s  profile: web\n", indent, i, indent, benchMAC(i), indent, benchIP(i), indent)
	}
	return b.String()
}

// TestDecodeSplit: a document whose systems are decoded in chunks at once
// decodes as it does whole; a document the cut cannot be sure of is not
// cut (and is decoded whole).
func TestDecodeSplit(t *testing.T) {
	flow := string(fleetDoc(9))
	tests := []struct {
		name string
		doc  string
		cut  bool
	}{
		{"flow entries", flow, true},
		{"block entries", "settings: {a: b}\nsystems:\n" + entries(9, "  ") + "profiles:\n  - {name: web, image: centos}\n", true},
		{"entries at column 0", "systems:\n" + entries(9, ""), true},
		{"comments and blank lines", "systems:\n# first\n" + strings.ReplaceAll(entries(9, "  "), "  - name: s4\n", "\n# at 0\n    # deeper\n  - name: s4\n") + "\n", true},
		{"CRLF", strings.ReplaceAll("systems:\n"+entries(9, "  "), "\n", "\r\n"), true},
		{"block scalar with entry-like lines", "systems:\n" + strings.ReplaceAll(entries(9, "  "), "    profile: web\n", "    profile: web\n    kernel_args: |\n      - a\n      x: y\n"), true},
		{"anchor used in another chunk", "systems:\n" + strings.Replace(strings.Replace(entries(9, "  "), "profile: web", "profile: &p web", 1), "profile: web\n", "profile: *p\n", -1), false},
		{"anchor used in its chunk", "systems:\n" + strings.Replace(strings.Replace(entries(9, "  "), "profile: web", "profile: &p web", 1), "- name: s1\n    macs", "- name: s1\n    kernel_args: *p\n    macs", 1), true},
		{"two systems keys", "systems:\n" + entries(9, "  ") + "systems:\n" + entries(1, "  "), false},
		{"systems in flow form", "systems: [" + strings.Repeat("{name: a},", 9) + "]\n", false},
		{"an unknown field", "systems:\n" + strings.Replace(entries(9, "  "), "profile: web", "profil: web", 1), false},
		{"a line less indented", "systems:\n" + strings.Replace(entries(9, "  "), "  - name: s5\n", " - name: s5\n", 1), false},
		{"a tab", "systems:\n" + strings.Replace(entries(9, "  "), "    ip:", "\tip:", 1), false},
		{"a second document", "systems:\n" + entries(9, "  ") + "---\nsystems: []\n", false},
		{"systems in a string", "records: [\"a\nsystems:\n" + entries(9, "  ") + "\"]\n", false},
		{"one entry", "systems:\n" + entries(1, "  "), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole, werr := decodeWhole([]byte(tt.doc))
			split, ok := decodeSplit([]byte(tt.doc), 4, 2)
			if ok != tt.cut {
				t.Fatalf("cut: %v, want %v (whole: %v)", ok, tt.cut, werr)
			}
			if !ok {
				return
			}
			if werr != nil {
				t.Fatalf("cut and decoded, but whole it does not decode: %v", werr)
			}
			if d := cmp.Diff(whole, split); d != "" {
				t.Fatalf("cut decodes otherwise (-whole +cut):\n%s", d)
			}
			if len(split.Systems) < 9 {
				t.Fatalf("%d systems", len(split.Systems))
			}
		})
	}
}

// TestDecodeSplitExport: a registry's own export, cut, decodes as whole.
func TestDecodeSplitExport(t *testing.T) {
	r, _ := openInstall(t)
	d, _, err := decodeDocument(manySystems(50), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Import(t.Context(), manySystems(50), false); err != nil {
		t.Fatal(err)
	}
	out, _ := r.Snapshot().Export(true)
	whole, err := decodeWhole(out)
	if err != nil {
		t.Fatal(err)
	}
	split, ok := decodeSplit(out, 7, 3)
	if !ok || len(split.Systems) != len(d.Systems) {
		t.Fatalf("export not cut (%v) or %d systems, want %d", ok, len(split.Systems), len(d.Systems))
	}
	if diff := cmp.Diff(whole, split); diff != "" {
		t.Fatalf("cut decodes otherwise (-whole +cut):\n%s", diff)
	}
}

// TestImportLargeDocument: a document large enough for its systems to be
// checked while they decode imports as a whole one does; a late entry
// that does not decode, or that conflicts, fails the import with the
// whole decode's error or the conflict, and nothing is written.
func TestImportLargeDocument(t *testing.T) {
	n := 7 * chunkEntries
	doc := fleetDoc(n)
	if len(doc) < splitMin {
		t.Fatalf("the document is %d bytes, under %d: not cut", len(doc), splitMin)
	}
	if _, chunks, err := decodeDocument(doc, ""); err != nil || chunks == nil {
		t.Fatalf("not decoded in chunks (%v)", err)
	}
	t.Run("ok", func(t *testing.T) {
		r, _ := openInstall(t)
		rep, err := r.Import(t.Context(), doc, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Added) != n+1 {
			t.Fatalf("added %d objects, want %d", len(rep.Added), n+1)
		}
		if got := r.Snapshot().Systems(); len(got) != n || got[n-1].Name != fmt.Sprintf("h%06d", n-1) {
			t.Fatalf("%d systems after the import", len(got))
		}
		// each addition's history has the system as added, JSON rendered
		// once all were checked
		for _, name := range []string{"h000000", fmt.Sprintf("h%06d", n/2+1), fmt.Sprintf("h%06d", n-1)} {
			h, err := r.History(t.Context(), name, 10)
			if err != nil || len(h) != 1 || h[0].Op != "add" || !strings.Contains(h[0].New, `"name":"`+name+`"`) {
				t.Fatalf("history of %s: %v %+v", name, err, h)
			}
		}
	})
	t.Run("late entry does not decode", func(t *testing.T) {
		r, _ := openInstall(t)
		late := fmt.Sprintf("h%06d", 59*chunkEntries/10)
		bad := []byte(strings.Replace(string(doc), "{name: "+late+",", "{nmae: "+late+",", 1))
		_, whole := decodeWhole(bad)
		if whole == nil {
			t.Fatal("the whole decode takes the unknown field")
		}
		_, err := r.Import(t.Context(), bad, false)
		if err == nil || !strings.Contains(err.Error(), whole.Error()) {
			t.Fatalf("import: %v, want the whole decode's error %v", err, whole)
		}
		if got := len(r.Snapshot().Systems()); got != 0 {
			t.Fatalf("%d systems written by a failed import", got)
		}
	})
	t.Run("late entry conflicts", func(t *testing.T) {
		r, _ := openInstall(t)
		bad := []byte(strings.Replace(string(doc), "ip: "+benchIP(59*chunkEntries/10)+",", "ip: "+benchIP(3)+",", 1))
		_, err := r.Import(t.Context(), bad, false)
		if err == nil || !strings.Contains(err.Error(), "system h000003") {
			t.Fatalf("import: %v, want a conflict with h000003", err)
		}
		if got := len(r.Snapshot().Systems()); got != 0 {
			t.Fatalf("%d systems written by a failed import", got)
		}
	})
}
