package registry

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A data directory whose name holds URI characters opens the database
// at that path, not at a truncated one.
func TestOpenSQLiteOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data?x=1#frag %41")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registry.db")
	ctx := context.Background()
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetSetting(ctx, "lvs.vrid", "100"); err != nil {
		t.Fatal(err)
	}
	r.Close()
	st, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v, ok := r.Snapshot().Setting("lvs.vrid"); !ok || v != "100" {
		t.Errorf("after reopening %s: lvs.vrid = %q, %v", path, v, ok)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files beside the data directory: %v", entries)
	}
}

// An import that spells a setting key in upper case sets the stored
// (lower-case) setting, and the database agrees after a restart.
func TestImportUpperCaseSettingKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	open := func() *Registry {
		st, err := OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(ctx, st, "dsas")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := open()
	if _, err := r.SetSetting(ctx, "lvs.vrid", "50"); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Import(ctx, []byte("settings:\n  LVS.VRID: \"100\"\n  Net.Private: 10.0.0.0/8\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("import: %+v", rep)
	r.Close()
	r = open()
	defer r.Close()
	for k, want := range map[string]string{"lvs.vrid": "100", "net.private": "10.0.0.0/8"} {
		if v, ok := r.Snapshot().Setting(k); !ok || v != want {
			t.Errorf("after restart %s = %q, %v; want %q", k, v, ok, want)
		}
	}
	if n := len(r.Snapshot().Settings()); n != 2 {
		t.Errorf("%d settings after restart, want 2", n)
	}
}
