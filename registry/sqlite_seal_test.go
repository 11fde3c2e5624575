package registry

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/provision/provision/internal/seal"
)

// Secrets are sealed at rest: plaintext rows written before a key are
// sealed when it is first used, the file holds no secret afterwards, the
// same key reads them back, and another key is refused before anything
// is read.
func TestSealedSecrets(t *testing.T) {
	ctx := context.Background()
	r, path, _ := openLifecycle(t)
	web := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "plain-bmc-pw"}
	if _, err := r.AddSystem(ctx, web); err != nil {
		t.Fatal(err)
	}
	inst, _ := r.AddSystem(ctx, instSys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12"))
	r.Close()
	if !storedPlain(t, path, "plain-bmc-pw") {
		t.Fatal("the test needs a plaintext row to start from")
	}
	dir := t.TempDir()
	key, _ := seal.Create(filepath.Join(dir, "key"))
	other, _ := seal.Create(filepath.Join(dir, "other"))

	st := openStore(t, path)
	if sealed, _ := st.Sealed(ctx); sealed {
		t.Fatal("a database never sealed says it is")
	}
	if err := st.UseKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	web3 := sys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.13")
	web3.BMC = &BMC{Address: "10.0.1.13", Password: "new-bmc-pw"}
	if _, err := r2.AddSystem(ctx, web3); err != nil {
		t.Fatal(err)
	}
	r2.Close()
	for _, secret := range []string{"plain-bmc-pw", "new-bmc-pw", string(inst.BuildToken)} {
		if storedPlain(t, path, secret) {
			t.Errorf("the database still holds %q", secret)
		}
	}

	st = openStore(t, path)
	if sealed, _ := st.Sealed(ctx); !sealed {
		t.Fatal("a sealed database says it is not")
	}
	if err := st.UseKey(ctx, other); !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("another key: %v", err)
	}
	if _, err := Open(ctx, st, "dsas"); err == nil {
		t.Fatal("a sealed database opened without its key")
	}
	if err := st.UseKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	r3, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	s1, _ := r3.Snapshot().SystemByName("web001")
	s2, _ := r3.Snapshot().SystemByName("web002")
	s3, _ := r3.Snapshot().SystemByName("web003")
	if s1.BMC.Password != "plain-bmc-pw" || s3.BMC.Password != "new-bmc-pw" || s2.BuildToken != inst.BuildToken {
		t.Fatalf("secrets read back: %q %q %v", s1.BMC.Password, s3.BMC.Password, s2.BuildToken == inst.BuildToken)
	}
}

// storedPlain reports whether the test database of path holds secret in
// plaintext: in the SQLite file or its log (every page, so also what a
// row left behind), or in the PostgreSQL database's secret columns.
func storedPlain(t *testing.T, path, secret string) bool {
	t.Helper()
	if testStore != "postgres" {
		for _, f := range []string{path, path + "-wal"} {
			if b, _ := os.ReadFile(f); bytes.Contains(b, []byte(secret)) {
				return true
			}
		}
		return false
	}
	st := openStore(t, path)
	defer st.Close()
	var n int
	err := st.db.QueryRowContext(context.Background(), `SELECT
		(SELECT COUNT(*) FROM systems WHERE bmc_password = ? OR doc LIKE '%' || ? || '%') +
		(SELECT COUNT(*) FROM builds WHERE token = ?)`, secret, secret, secret).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestIPMIPasswordLength(t *testing.T) {
	r, _ := openTest(t)
	s := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	s.BMC = &BMC{Address: "10.0.1.11", Password: "123456789012345678901"}
	if _, err := r.AddSystem(context.Background(), s); err == nil || err.Error() != "system web001: the bmc password is 21 bytes, IPMI takes at most 20" {
		t.Fatalf("a 21-byte IPMI password: %v", err)
	}
	s.BMC.Provider = "redfish" // Redfish has no such limit
	if _, err := r.AddSystem(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}
