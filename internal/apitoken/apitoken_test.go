package apitoken

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureCheckRotate(t *testing.T) {
	dir := t.TempDir()
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	admin, err := Read(dir, Admin)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := Read(dir, ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	if len(admin) != 64 || len(ro) != 64 || admin == ro {
		t.Fatalf("tokens %q %q", admin, ro)
	}
	for _, n := range []string{"token", "token-read-only"} {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", n, st.Mode(), err)
		}
	}
	// A second start keeps them.
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := Read(dir, Admin); again != admin {
		t.Fatal("Ensure replaced the admin token")
	}
	f := &Files{Dir: dir}
	for given, want := range map[string]string{admin: Admin, ro: ReadOnly} {
		if name, ok := f.Check(given); !ok || name != want {
			t.Fatalf("Check: %q %v, want %q", name, ok, want)
		}
	}
	for _, bad := range []string{"", "x", admin + "x", admin[:63]} {
		if name, ok := f.Check(bad); ok {
			t.Fatalf("Check(%q) = %q", bad, name)
		}
	}
	if _, err := Rotate(dir, ReadOnly); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Check(ro); ok {
		t.Fatal("the rotated read-only token still works")
	}
	ro2, _ := Read(dir, ReadOnly)
	if name, ok := f.Check(ro2); !ok || name != ReadOnly || ro2 == ro {
		t.Fatalf("new read-only token: %q %v", name, ok)
	}
	if name, ok := f.Check(admin); !ok || name != Admin {
		t.Fatal("rotating the read-only token broke the admin token")
	}
	if _, err := os.Stat(filepath.Join(dir, "token-read-only.new")); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	// A missing file matches nothing, not the empty token.
	os.Remove(filepath.Join(dir, "token"))
	if _, ok := f.Check(admin); ok {
		t.Fatal("a removed token file still matches")
	}
}

// TestWriteSyncsDirectory: the token file's directory is fsynced after
// the file is created (Ensure) and after the new file is renamed over
// the old (Rotate), and a failed directory sync is an error.
func TestWriteSyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName(Admin))
	for _, replace := range []bool{false, true} {
		var synced []string
		var seen string
		err := write(path, replace, func(d string) error {
			synced = append(synced, d)
			b, _ := os.ReadFile(path) // the name must be in place when the directory is synced
			seen = string(b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(synced) != 1 || synced[0] != dir || len(seen) != 65 {
			t.Fatalf("replace=%v: directories synced %q, the token file then %q", replace, synced, seen)
		}
	}
	err := write(path, true, func(string) error { return os.ErrPermission })
	if err == nil {
		t.Fatal("a failed directory sync was not reported")
	}
}
