package registry

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/seal"
)

// sealedRegistry opens the registry of path with key, as the appliance
// does (UseKey, then Open).
func sealedRegistry(t *testing.T, path string, key *seal.Key) (*Registry, error) {
	t.Helper()
	st := openStore(t, path)
	if err := st.UseKey(context.Background(), key); err != nil {
		st.Close()
		return nil, err
	}
	r, err := Open(context.Background(), st, "dsas")
	if err != nil {
		st.Close()
	}
	return r, err
}

func bmcSystems(t *testing.T, key *seal.Key) string {
	t.Helper()
	ctx := context.Background()
	r, path := openTest(t)
	r.Close()
	r, err := sealedRegistry(t, path, key)
	if err != nil {
		t.Fatal(err)
	}
	for i, pw := range []Secret{"pw-of-web001", "pw-of-web002"} {
		s := sys("web00"+string(rune('1'+i)), "aa:bb:cc:dd:ee:0"+string(rune('1'+i)), "10.0.0.1"+string(rune('1'+i)))
		s.BMC = &BMC{Address: "10.0.1.1" + string(rune('1'+i)), User: "admin", Password: pw}
		if _, err := r.AddSystem(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	return path
}

// TestSealedBMCPasswordIsBound: a BMC password sealed for web001 and
// copied (SQL on the database) into web002's row does not open as
// web002's: the registry refuses to load, naming web002.
func TestSealedBMCPasswordIsBound(t *testing.T) {
	key, _ := seal.Create(filepath.Join(t.TempDir(), "key"))
	path := bmcSystems(t, key)
	st := openStore(t, path)
	_, err := st.db.ExecContext(context.Background(),
		`UPDATE systems SET bmc_password = (SELECT bmc_password FROM systems WHERE name = 'web001') WHERE name = 'web002'`)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sealedRegistry(t, path, key)
	if err == nil {
		s, _ := r.Snapshot().SystemByName("web002")
		r.Close()
		t.Fatalf("web001's sealed password loaded as web002's: %v", s.BMC.Password == "pw-of-web001")
	}
	if !strings.Contains(err.Error(), "system web002") || !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("the error does not name the system: %v", err)
	}
}

// TestOldSealedBMCPasswordMigrates: a BMC password sealed by an earlier
// version (seal v1, bound to nothing) is bound to its system and address
// when the key is first used again, and reads back the same.
func TestOldSealedBMCPasswordMigrates(t *testing.T) {
	ctx := context.Background()
	key, _ := seal.Create(filepath.Join(t.TempDir(), "key"))
	path := bmcSystems(t, key)
	st := openStore(t, path)
	old := key.Seal("old-format-pw")
	if _, err := st.db.ExecContext(ctx, `UPDATE systems SET bmc_password = ? WHERE name = 'web002'`, old); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r, err := sealedRegistry(t, path, key)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := r.Snapshot().SystemByName("web002")
	r.Close()
	if s.BMC.Password != "old-format-pw" {
		t.Fatalf("the old value read back as %q", s.BMC.Password)
	}
	st = openStore(t, path)
	defer st.Close()
	var stored string
	if err := st.db.QueryRowContext(ctx, `SELECT bmc_password FROM systems WHERE name = 'web002'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !seal.Bound(stored) {
		t.Fatalf("the stored value is still unbound: %.10s...", stored)
	}
	if got, err := key.OpenFor(stored, bmcContext("web002", "10.0.1.12")); err != nil || got != "old-format-pw" {
		t.Fatalf("the migrated value: %q %v", got, err)
	}
}

// TestBMCAddressChangeNeedsPassword: an edit that moves a BMC to another
// address without its password is refused, naming the system (the old
// password would go to the new address); with a password it passes, and
// an edit that keeps the address keeps the password.
func TestBMCAddressChangeNeedsPassword(t *testing.T) {
	ctx := context.Background()
	r, _ := openTest(t)
	web := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "old-bmc-pw"}
	if _, err := r.AddSystem(ctx, web); err != nil {
		t.Fatal(err)
	}
	moved := web.Clone()
	moved.BMC.Address, moved.BMC.Password = "10.0.1.99", ""
	_, err := r.EditSystem(ctx, "web001", moved)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "system web001") || !strings.Contains(err.Error(), "10.0.1.99") {
		t.Fatalf("an address change without a password: %v", err)
	}
	if s, _ := r.Snapshot().SystemByName("web001"); s.BMC.Address != "10.0.1.11" {
		t.Fatalf("the refused edit moved the BMC to %s", s.BMC.Address)
	}
	same := web.Clone()
	same.BMC.User, same.BMC.Password = "root", ""
	if s, err := r.EditSystem(ctx, "web001", same); err != nil || s.BMC.Password != "old-bmc-pw" {
		t.Fatalf("an edit of the same BMC: %v", err)
	}
	moved.BMC.Password = "new-bmc-pw"
	if s, err := r.EditSystem(ctx, "web001", moved); err != nil || s.BMC.Password != "new-bmc-pw" || s.BMC.Address != "10.0.1.99" {
		t.Fatalf("an address change with its password: %v", err)
	}
}

// TestBMCTLSFields: a fingerprint is canonical hex; it and insecure are
// for Redfish only, and not both.
func TestBMCTLSFields(t *testing.T) {
	ctx := context.Background()
	r, _ := openTest(t)
	fp := strings.Repeat("AB:", 31) + "AB"
	web := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web.BMC = &BMC{Address: "10.0.1.11", Provider: "redfish", Fingerprint: "sha256:" + fp}
	s, err := r.AddSystem(ctx, web)
	if err != nil || s.BMC.Fingerprint != strings.Repeat("ab", 32) {
		t.Fatalf("a fingerprint: %v %+v", err, s)
	}
	for name, b := range map[string]BMC{
		"ipmi fingerprint": {Address: "10.0.1.12", Fingerprint: strings.Repeat("ab", 32)},
		"ipmi insecure":    {Address: "10.0.1.12", Insecure: true},
		"both":             {Address: "10.0.1.12", Provider: "redfish", Insecure: true, Fingerprint: strings.Repeat("ab", 32)},
		"short":            {Address: "10.0.1.12", Provider: "redfish", Fingerprint: "abcd"},
	} {
		s := sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")
		s.BMC = &b
		if _, err := r.AddSystem(ctx, s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
