package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
)

// Two appliances on one PostgreSQL database, each with its own Snapshot
// and nothing telling it of the other's writes yet: 50 concurrent adds of
// one IP, spread over both, succeed exactly once. The other's Snapshot is
// stale: its commit is refused by the database (the serial moved), it
// catches up and refuses the add itself, as ErrConflict naming the
// holder. A writer that bypasses all that (a raw commit) still meets the
// database's unique constraints.
func TestPostgresRefusesWhatAStaleApplianceLetsThrough(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	open := func() *Registry { return openPostgresRegistry(t, url) }
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
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrConflict) && strings.Contains(err.Error(), "10.0.0.50"):
		default:
			t.Errorf("add web%03d: %v, want success or ErrConflict naming 10.0.0.50", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d adds of 10.0.0.50 succeeded, want exactly 1", ok)
	}
	raw := sys("web999", "aa:bb:cc:dd:ee:99", "10.0.0.50")
	raw.Hostname = "web999.dsas"
	serial := stored(t, a).Serial
	if _, err := a.store.Commit(ctx, serial, []Op{op(ObjSystem, "", nil, &raw, raw.Name, "add")}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "refused by the database") {
		t.Errorf("a raw commit of 10.0.0.50 again: %v, want ErrConflict refused by the database", err)
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
}

// openPostgresRegistry opens a Registry (an appliance) on the database at
// url, closed at t's end.
func openPostgresRegistry(t *testing.T, url string) *Registry {
	t.Helper()
	return openRegistryOn(t)(OpenPostgres(context.Background(), url))
}

// openRegistryOn returns a function that opens a Registry (an appliance)
// on the store it is given, closed at t's end; it is called with a
// store opener's results: openRegistryOn(t)(OpenSQLite(ctx, path)).
func openRegistryOn(t *testing.T) func(st *SQLStore, err error) *Registry {
	return func(st *SQLStore, err error) *Registry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(context.Background(), st, "dsas")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
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

// An appliance following the database sees another's commits: at once
// through NOTIFY; after a commit of its own that skipped the other's
// serial; and after its listening connection was cut, when it reconnects.
func TestPostgresFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.DB(t)
	open := func() *Registry { return openPostgresRegistry(t, url) }
	a, b := open(), open()
	sees := func(r *Registry, subnet string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, ok := r.Snapshot().Subnet(subnet); ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("subnet %s never reached the other appliance (its serial %d)", subnet, r.Snapshot().Serial)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// b commits without having seen a's commit: the database refuses it
	// until b has caught up.
	must(t, func() error { _, err := a.AddSubnet(ctx, Subnet{Name: "s1", CIDR: "10.1.0.0/24"}); return err })
	must(t, func() error { _, err := b.AddSubnet(ctx, Subnet{Name: "s2", CIDR: "10.2.0.0/24"}); return err })
	changed := make(chan uint64, 100)
	b.OnChange(func(s *Snapshot) { changed <- s.Serial })
	go b.Follow(ctx)
	sees(b, "s1")
	if _, ok := b.Snapshot().Subnet("s2"); !ok {
		t.Fatal("b lost its own commit in the reload")
	}

	start := time.Now()
	must(t, func() error { _, err := a.AddSubnet(ctx, Subnet{Name: "s3", CIDR: "10.3.0.0/24"}); return err })
	sees(b, "s3")
	t.Logf("a's commit reached b's Snapshot in %v", time.Since(start))
	if len(changed) == 0 {
		t.Error("b's OnChange subscribers were not told")
	}

	// Cut b's listening connection, commit meanwhile: b catches up.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cut int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, listenerName).Scan(&cut); err != nil || cut == 0 {
		t.Fatalf("cut the listener: %d cut, %v", cut, err)
	}
	must(t, func() error { _, err := a.AddSubnet(ctx, Subnet{Name: "s4", CIDR: "10.4.0.0/24"}); return err })
	sees(b, "s4")
}

// An appliance opens at most PostgresIdleConns connections to the
// database, however many queries it has in flight: several appliances
// stay under the server's max_connections.
func TestPostgresBoundsItsConnections(t *testing.T) {
	st, err := OpenPostgres(context.Background(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.db.Stats().MaxOpenConnections; got != PostgresIdleConns {
		t.Errorf("MaxOpenConnections %d, want %d", got, PostgresIdleConns)
	}
}
