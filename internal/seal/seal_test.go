package seal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	k, err := Create(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "k")); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode().Perm())
	}
	if _, err := Create(filepath.Join(dir, "k")); err == nil {
		t.Fatal("Create overwrote an existing key")
	}
	same, err := Load(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Create(filepath.Join(dir, "other"))
	for _, plain := range []string{"s3cret", "p\x00w", strings.Repeat("é", 300)} {
		s := k.Seal(plain)
		if !Sealed(s) || strings.Contains(s, plain) || s == k.Seal(plain) {
			t.Fatalf("Seal(%q) = %q", plain, s)
		}
		if got, err := same.Open(s); err != nil || got != plain {
			t.Fatalf("Open: %q %v", got, err)
		}
		if _, err := other.Open(s); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("another key opened it: %v", err)
		}
		tampered := s[:len(s)-2] + "AA"
		if _, err := k.Open(tampered); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("an altered value opened: %v", err)
		}
	}
	if k.Seal("") != "" {
		t.Fatal(`Seal("") is not ""`)
	}
	if v, err := k.Open(""); v != "" || err != nil {
		t.Fatal(`Open("")`)
	}
	if _, err := k.Open("plaintext"); err == nil {
		t.Fatal("a plaintext value opened")
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte("zz\n"), 0o600)
	if _, err := Load(filepath.Join(dir, "bad")); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Fatalf("a bad key file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing key file: %v", err)
	}
}

// TestCreateSyncsDirectory: the key file's directory is fsynced once the
// file is in it, and a failed sync is an error naming the key file.
func TestCreateSyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	var synced []string
	var size int
	if _, err := create(path, func(d string) error {
		synced = append(synced, d)
		b, _ := os.ReadFile(path)
		size = len(b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || synced[0] != dir || size != 65 {
		t.Fatalf("directories synced %q, the key file then %d bytes", synced, size)
	}
	_, err := create(filepath.Join(dir, "other.key"), func(string) error { return os.ErrPermission })
	if err == nil || !strings.Contains(err.Error(), "other.key") {
		t.Fatalf("a failed directory sync: %v", err)
	}
}

// TestSealFor: a value bound to a context opens only with that context;
// an unbound (v1) value is not taken for a bound one, nor the reverse.
func TestSealFor(t *testing.T) {
	k, err := Create(filepath.Join(t.TempDir(), "k"))
	if err != nil {
		t.Fatal(err)
	}
	const ctxA, ctxB = "bmc password of system a at 10.0.1.1", "bmc password of system b at 10.0.1.1"
	// A plaintext long enough that random base64 never spells it (a
	// two-letter one did, about once in a hundred runs).
	const plain = "bmc-password-17"
	s := k.SealFor(plain, ctxA)
	if !Sealed(s) || !Bound(s) || strings.Contains(s, plain) {
		t.Fatalf("SealFor = %q", s)
	}
	if got, err := k.OpenFor(s, ctxA); err != nil || got != plain {
		t.Fatalf("OpenFor its context: %q %v", got, err)
	}
	if _, err := k.OpenFor(s, ctxB); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("OpenFor another context: %v", err)
	}
	if _, err := k.Open(s); err == nil {
		t.Fatal("Open took a bound value")
	}
	if _, err := k.OpenFor(k.Seal("pw"), ctxA); !errors.Is(err, ErrUnbound) {
		t.Fatalf("OpenFor of an unbound value: %v", err)
	}
	if _, err := k.OpenFor(k.SealFor("pw", ""), ctxA); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the empty context opened for another: %v", err)
	}
	if v, err := k.OpenFor("", ctxA); v != "" || err != nil {
		t.Fatal(`OpenFor("")`)
	}
}
