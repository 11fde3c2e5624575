package registry

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
)

// A database of schema 5 (before hooks) is brought to 6 on both
// backends: the hooks' tables are made, and work.
func TestHookSchemaMigration(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			open := reopener(t, backend)
			st := open()
			for _, q := range []string{`DROP TABLE deliveries`, `DROP TABLE outbox`, `DROP TABLE hook_cursors`, `DROP TABLE hooks`, `UPDATE meta SET value = 5 WHERE key = 'schema'`} {
				if _, err := st.db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			st.Close()
			st = open()
			defer st.Close()
			var v int
			st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
			if v != SchemaVersion {
				t.Fatalf("schema %d after the migration, want %d", v, SchemaVersion)
			}
			r, err := Open(ctx, st, "dsas")
			if err != nil {
				t.Fatal(err)
			}
			must(t, func() error {
				return r.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAll}})
			})
			must(t, func() error { return r.Notify(ctx, HookDiscovered, "52:54:00:00:00:01", nil) })
			if n, err := st.Enqueue(ctx, time.Now()); err != nil || n != 1 {
				t.Errorf("enqueue after the migration: %d, %v", n, err)
			}
		})
	}
}

// Migrate carries hooks (their secret sealed as it was), the outbox and
// the deliveries, and the target goes on numbering past them.
func TestMigrateHooks(t *testing.T) {
	ctx := context.Background()
	src := newMigrateSource(t)
	must(t, func() error {
		return src.r.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAll}, Secret: hookSecret})
	})
	must(t, func() error { return src.r.Notify(ctx, HookDiscovered, "52:54:00:00:00:01", nil) })
	if _, err := src.st.Enqueue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	dst := migrateTarget(t, "postgres")
	if _, err := Migrate(ctx, src.st, dst); err != nil {
		t.Fatal(err)
	}
	must(t, func() error { return dst.UseKey(ctx, src.key) })
	r, err := Open(ctx, dst, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := r.Snapshot().Hook("ci"); !ok || h.Secret != hookSecret {
		t.Fatalf("hook after the migration: %+v", h)
	}
	must(t, func() error { return r.Notify(ctx, HookDiscovered, "52:54:00:00:00:02", nil) })
	if n, err := dst.Enqueue(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("enqueue on the target: %d, %v", n, err)
	}
	if l, _ := dst.Deliveries(ctx, "ci", 10); len(l) != 2 || l[0].Seq <= l[1].Seq {
		t.Errorf("deliveries on the target: %+v", l)
	}
}

// Two appliances on one PostgreSQL database claim at once: each
// delivery is claimed by exactly one of them, and each system's are
// claimed in order.
func TestPostgresClaimOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	a := openPostgresRegistry(t, url)
	must(t, func() error {
		return a.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAll}})
	})
	for i := range 200 {
		must(t, func() error { return a.Notify(ctx, HookPower, fmt.Sprintf("m%02d", i%20), i) })
	}
	b := openPostgresRegistry(t, url)
	var mu sync.Mutex
	seen := map[int64]string{}
	last := map[string]int64{}
	var wg sync.WaitGroup
	var enqueued int
	for _, owner := range []string{"a", "b"} {
		r := map[string]*Registry{"a": a, "b": b}[owner]
		o, _ := r.Outbox()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 20; {
				n, err := o.Enqueue(ctx, time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				got, err := o.Claim(ctx, owner, time.Now(), time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				enqueued += n
				for _, d := range got {
					if prev, dup := seen[d.ID]; dup {
						t.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
					}
					if d.Seq < last[d.System] {
						t.Errorf("system %s: seq %d claimed after %d", d.System, d.Seq, last[d.System])
					}
					seen[d.ID], last[d.System] = owner, d.Seq
				}
				mu.Unlock()
				for _, d := range got {
					o.Delivered(ctx, d.ID, 1, time.Now())
				}
				if len(got) == 0 {
					idle++
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	if enqueued != 200 || len(seen) != 200 {
		t.Errorf("enqueued %d, claimed %d; want 200 each", enqueued, len(seen))
	}
}
