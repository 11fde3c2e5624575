package registry

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/provision/provision/internal/pgtest"
)

// reopener makes a fresh database on backend ("sqlite" or "postgres")
// and returns a function that opens it, as often as a test needs.
func reopener(t *testing.T, backend string) func() *SQLStore {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	if backend == "postgres" {
		path = pgtest.DB(t)
	}
	return func() *SQLStore {
		st, err := OpenSQLite(ctx, path)
		if backend == "postgres" {
			st, err = OpenPostgres(ctx, path)
		}
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
}
