package registry

import (
	"context"
	"maps"
	"slices"
	"testing"
)

// TestChangedSince: a Snapshot tells which objects changed since an
// earlier version, and says it cannot when the version is unknown.
func TestChangedSince(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	base := r.Snapshot()
	add := func(name, mac, ip string) {
		t.Helper()
		if _, err := r.AddSystem(ctx, System{Name: name, MACs: []string{mac}, IP: ip, Profile: "web"}); err != nil {
			t.Fatal(err)
		}
	}
	add("a", "02:00:00:00:00:01", "10.0.0.11")
	add("b", "02:00:00:00:00:02", "10.0.0.12")
	mid := r.Snapshot()
	if _, err := r.EditSystem(ctx, "a", System{Name: "c", MACs: []string{"02:00:00:00:00:01"}, IP: "10.0.0.11", Profile: "web"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetSetting(ctx, "lvs.vrid", "100"); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	names := func(c Changes, kind string) []string { return slices.Sorted(maps.Keys(c[kind])) }

	c, ok := snap.ChangedSince(base)
	if !ok || !slices.Equal(names(c, ObjSystem), []string{"a", "b", "c"}) || !slices.Equal(names(c, ObjSetting), []string{"lvs.vrid"}) {
		t.Errorf("since %d: %v %v, want systems a b c and setting lvs.vrid", base.Serial, c, ok)
	}
	c, ok = snap.ChangedSince(mid)
	if !ok || !slices.Equal(names(c, ObjSystem), []string{"a", "c"}) {
		t.Errorf("since %d: %v %v, want systems a c (the rename)", mid.Serial, c, ok)
	}
	if c, ok := snap.ChangedSince(snap); !ok || len(c) != 0 {
		t.Errorf("since itself: %v %v, want nothing", c, ok)
	}
	if _, ok := mid.ChangedSince(snap); ok {
		t.Errorf("since a later version: ok, want unknown")
	}
	if _, ok := snap.ChangedSince(nil); ok {
		t.Errorf("since nil: ok, want unknown")
	}
	// A refused change makes no version.
	if _, err := r.AddSystem(ctx, System{Name: "d", MACs: []string{"02:00:00:00:00:02"}, IP: "10.0.0.14", Profile: "web"}); err == nil {
		t.Fatal("duplicate MAC accepted")
	}
	if r.Snapshot() != snap {
		t.Error("a refused change published a new Snapshot")
	}
	// A Registry opened again knows no version before its first, even
	// one with the same serial: another Registry's.
	r.Close()
	r2 := reopen(t, path)
	if _, ok := r2.Snapshot().ChangedSince(base); ok {
		t.Errorf("reopened: since %d: ok, want unknown", base.Serial)
	}
	if _, err := r2.SetSetting(ctx, "x", "1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := r2.Snapshot().ChangedSince(snap); ok {
		t.Errorf("reopened: since the old Registry's serial %d: ok, want unknown", snap.Serial)
	}
}
