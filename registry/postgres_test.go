package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/provision/provision/internal/pgtest"
)

// Two appliances on one PostgreSQL database, each with its own Snapshot
// and nothing telling it of the other's writes yet: 50 concurrent adds of
// one IP, spread over both, succeed exactly once. The other's Snapshot is
// stale, so it is the database's unique constraints that refuse the rest,
// as ErrConflict.
func TestPostgresRefusesWhatAStaleApplianceLetsThrough(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	open := func() *Registry {
		st, err := OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(ctx, st, "dsas")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	a := open()
	must(t, func() error { _, err := a.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24"}); return err })
	must(t, func() error {
		_, err := a.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
		return err
	})
	must(t, func() error { _, err := a.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); return err })
	b := open() // loads what a wrote; from now on it sees nothing of a's

	var wg sync.WaitGroup
	errs := make([]error, 50)
	for i := range errs {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.AddSystem(ctx, sys(fmt.Sprintf("web%03d", i), fmt.Sprintf("aa:bb:cc:dd:ee:%02x", i), "10.0.0.50"))
		}()
	}
	wg.Wait()
	ok, refusedByDB := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrConflict):
			if strings.Contains(err.Error(), "refused by the database") {
				refusedByDB++
			}
		default:
			t.Errorf("add web%03d: %v, want success or ErrConflict", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d adds of 10.0.0.50 succeeded, want exactly 1", ok)
	}
	if refusedByDB == 0 {
		t.Error("no add was refused by the database: the test did not reach the constraint")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM addresses WHERE ip = '10.0.0.50'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the database holds 10.0.0.50 %d times (%v), want once", n, err)
	}
	t.Logf("1 added, %d refused by the database, %d by a Snapshot", refusedByDB, len(errs)-1-refusedByDB)
}

// A PostgreSQL database written by a newer provision is refused, and left
// as it is.
func TestPostgresRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	st, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, `UPDATE meta SET value = 99 WHERE key = 'schema'`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = OpenPostgres(ctx, url)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("open a newer database: %v, want ErrSchemaTooNew naming version 99", err)
	}
	if strings.Contains(err.Error(), "postgres://") {
		t.Errorf("the error repeats the database URL: %v", err)
	}
}
