package registry

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An edit's diff names each changed field by its dotted path, old and
// new, lists joined; a rename leaves its name out and says where from.
func TestChangeDiff(t *testing.T) {
	ch := Change{Op: "rename", Name: "web02",
		Old: `{"name":"web01","ip":"10.0.0.11","macs":["aa:bb:cc:dd:ee:01"],"settings":{"role":"web","rack":"r1"},"netboot":true}`,
		New: `{"name":"web02","ip":"10.0.0.12","macs":["aa:bb:cc:dd:ee:01","aa:bb:cc:dd:ee:02"],"settings":{"role":"web","disk":"vda"},"netboot":true}`}
	want := []FieldChange{
		{Field: "ip", Old: "10.0.0.11", New: "10.0.0.12"},
		{Field: "macs", Old: "aa:bb:cc:dd:ee:01", New: "aa:bb:cc:dd:ee:01,aa:bb:cc:dd:ee:02"},
		{Field: "settings.disk", New: "vda"},
		{Field: "settings.rack", Old: "r1"},
	}
	if diff := cmp.Diff(want, ch.Diff()); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if got := ch.RenamedFrom(); got != "web01" {
		t.Errorf("RenamedFrom = %q, want web01", got)
	}
	add := Change{Op: "add", Name: "web01", New: `{"name":"web01"}`}
	if d := add.Diff(); d != nil || add.RenamedFrom() != "" {
		t.Errorf("an add: Diff %v, RenamedFrom %q; want neither", d, add.RenamedFrom())
	}
	b, err := json.Marshal(add.Document())
	if err != nil || string(b) != `{"at":"","id":0,"kind":"","name":"web01","new":{"name":"web01"},"op":"add"}` {
		t.Errorf("Document = %s, %v", b, err)
	}
}
