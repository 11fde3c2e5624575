package registry

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
)

// A database of schema 6 (before users) is brought up to date on both
// backends: the users' tables are made, and work.
func TestUserSchemaMigration(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			open := reopener(t, backend)
			st := open()
			for _, q := range []string{`DROP TABLE tokens`, `DROP TABLE users`, `UPDATE meta SET value = 6 WHERE key = 'schema'`} {
				if _, err := st.db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if _, err := Open(ctx, st, "dsas"); err == nil {
				t.Fatal("the schema-6 database without the tables of 7 loaded: the test does not test")
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
			must(t, func() error { return r.AddUser(ctx, User{Name: "alice", Role: "admin"}) })
			secret, _, err := r.CreateToken(ctx, "alice", "", time.Time{}, false)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := Open(ctx, st, "dsas") // loaded from the tables
			if err != nil {
				t.Fatal(err)
			}
			if _, u, err := r2.Snapshot().TokenFor(secret, time.Now()); err != nil || u.Name != "alice" {
				t.Errorf("token after a reload: %v %v", u, err)
			}
		})
	}
}

// Migrate carries users and tokens (hashes) from SQLite to PostgreSQL:
// a token made before works after.
func TestMigrateUsers(t *testing.T) {
	ctx := context.Background()
	src := newMigrateSource(t)
	must(t, func() error { return src.r.AddUser(ctx, User{Name: "alice", Role: "operator", FullName: "Alice"}) })
	secret, tok, err := src.r.CreateToken(ctx, "alice", "ci", time.Time{}, false)
	if err != nil {
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
	if got, u, err := r.Snapshot().TokenFor(secret, time.Now()); err != nil || got.ID != tok.ID || u.FullName != "Alice" {
		t.Fatalf("token after the migration: %+v %+v %v", got, u, err)
	}
}

// Another appliance on the same PostgreSQL database takes a new token,
// and its revocation, from the commits it follows.
func TestPostgresFollowsTokens(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.DB(t)
	a, b := openPostgresRegistry(t, url), openPostgresRegistry(t, url)
	go b.Follow(ctx)
	must(t, func() error { return a.AddUser(ctx, User{Name: "alice", Role: "viewer"}) })
	secret, tok, err := a.CreateToken(ctx, "alice", "", time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached the other appliance", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	until("the token", func() bool { _, _, err := b.Snapshot().TokenFor(secret, time.Now()); return err == nil })
	if _, err := a.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	until("the revocation", func() bool { _, _, err := b.Snapshot().TokenFor(secret, time.Now()); return err != nil })
	must(t, func() error { return a.RemoveUser(ctx, "alice") })
	until("the removal", func() bool { _, ok := b.Snapshot().User("alice"); return !ok })
}

// Export has users, never tokens; import adds and updates users, and
// checks them as any write does.
func TestExportImportUsers(t *testing.T) {
	r := openSites(t)
	ctx := context.Background()
	must(t, func() error {
		return r.AddUser(ctx, User{Name: "alice", Role: "operator", Scopes: []string{"site=tokyo"}})
	})
	secret, tok, err := r.CreateToken(ctx, "alice", "nightly-job", time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := r.Snapshot().Export(true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "users:\n  - name: alice\n    role: operator\n    scopes:\n      - site=tokyo\n") || strings.Contains(string(doc), "nightly-job") ||
		strings.Contains(string(doc), tok.ID) || strings.Contains(string(doc), secret[20:]) {
		t.Fatalf("export:\n%s", doc)
	}
	text := strings.Replace(string(doc), "role: operator", "role: admin", 1) + "  - name: bob\n    role: viewer\n"
	rep, err := r.Import(ctx, []byte(text), false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Added, ",") != "user bob" || strings.Join(rep.Changed, ",") != "user alice" {
		t.Errorf("import: %+v", rep)
	}
	if u, _ := r.Snapshot().User("alice"); u.Role != "admin" || len(r.Snapshot().Tokens("alice")) != 1 {
		t.Errorf("alice after the import: %+v, tokens %d", u, len(r.Snapshot().Tokens("alice")))
	}
	bad := "users:\n  - name: carol\n    role: root\n  - name: dan\n    role: viewer\n    scopes: [site=kyoto]\n"
	_, err = r.Import(ctx, []byte(bad), false)
	if err == nil || !strings.Contains(err.Error(), `user carol: role "root"`) || !strings.Contains(err.Error(), "user dan: scope site=kyoto: no subnet has site kyoto") {
		t.Errorf("a bad import: %v", err)
	}
}
