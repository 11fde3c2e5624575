package registry

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNormalizedOf: a decode worker's normalizeSystem serves the check
// once, in the zone it was done in; else the check does it again, with
// the same result or error.
func TestNormalizedOf(t *testing.T) {
	s := newSnapshot("lab")
	good := System{Name: "web1", MACs: []string{"AA-BB-CC-DD-EE-01"}, IP: "10.0.0.5"}
	bad := System{Name: "web2", MACs: []string{"not-a-mac"}}
	for _, in := range []System{good, bad} {
		want, wantErr := s.normalizeSystem(in)
		tests := []struct {
			name string
			norm func() *normalized
		}{
			{"none", func() *normalized { return nil }},
			{"same zone", func() *normalized { return &normalize("lab", []System{in})[0] }},
			{"other zone", func() *normalized { return &normalize("elsewhere", []System{in})[0] }},
			{"used", func() *normalized {
				n := &normalize("lab", []System{in})[0]
				n.of(s, in)
				return n
			}},
		}
		for _, tt := range tests {
			t.Run(in.Name+"/"+tt.name, func(t *testing.T) {
				got, err := tt.norm().of(s, in)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Fatalf("error %v, want %v", err, wantErr)
				}
				if err == nil {
					if d := cmp.Diff(want, got); d != "" {
						t.Fatalf("-want +got:\n%s", d)
					}
				}
			})
		}
	}
}

// TestImportLargeDocumentInvalid: a late system that a decode worker
// finds invalid fails the import with the error the check of the whole
// decode gives, and nothing is written.
func TestImportLargeDocumentInvalid(t *testing.T) {
	n := 7 * chunkEntries
	late := 59 * chunkEntries / 10
	doc := strings.Replace(string(fleetDoc(n)), `macs: ["`+benchMAC(late)+`"]`, `macs: ["zz:`+benchMAC(late)+`"]`, 1)
	if _, chunks, err := decodeDocument([]byte(doc), "lab"); err != nil || chunks == nil {
		t.Fatalf("not decoded in chunks (%v)", err)
	}
	whole, err := decodeWhole([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := openInstall(t)
	_, want := r.importDocument(t.Context(), &whole, nil, true)
	if want == nil || !strings.Contains(want.Error(), "zz:") {
		t.Fatalf("whole: %v, want the bad MAC refused", want)
	}
	_, err = r.Import(t.Context(), []byte(doc), false)
	if err == nil || err.Error() != want.Error() {
		t.Fatalf("import: %v, want %v", err, want)
	}
	if got := len(r.Snapshot().Systems()); got != 0 {
		t.Fatalf("%d systems written by a failed import", got)
	}
}
