package dbtemplate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// Each copy is the template's schema and rows, less what forget removed,
// and a database of its own; a path that exists is refused.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	creates := 0
	create := func(path string) error {
		creates++
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, `CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER);
			INSERT INTO meta VALUES ('schema', 8), ('instance', random())`)
		return err
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a.db", "b.db"} {
		p := filepath.Join(dir, name)
		if err := Copy(p, create, `DELETE FROM meta WHERE key = 'instance'`); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if creates != 1 {
		t.Errorf("the template was made %d times, want once", creates)
	}
	for i, p := range paths {
		db, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		var keys string
		if err := db.QueryRowContext(ctx, `SELECT group_concat(key) FROM meta`).Scan(&keys); err != nil {
			t.Fatal(err)
		}
		if keys != "schema" {
			t.Errorf("copy %d: meta holds %q, want only schema", i, keys)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO meta VALUES ('own', ?)`, i); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	db, _ := sql.Open("sqlite", paths[1])
	var n int
	db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'own'`).Scan(&n)
	db.Close()
	if n != 1 {
		t.Errorf("the second copy holds the first's row: own = %d", n)
	}
	if err := Copy(paths[0], create, ""); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a copy over an existing database: %v", err)
	}
}
