package pgtest

import (
	"context"
	"database/sql"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Two tests' databases are apart: a table made in one is not in the other.
func TestDatabasesApart(t *testing.T) {
	ctx := context.Background()
	a, err := sql.Open("pgx", DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.ExecContext(ctx, `CREATE TABLE only_here (x INT)`); err != nil {
		t.Fatal(err)
	}
	b, err := sql.Open("pgx", DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var n int
	if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'only_here'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the second database sees the first one's table: %d, %v", n, err)
	}
	var user string
	if err := a.QueryRowContext(ctx, `SELECT current_user`).Scan(&user); err != nil || user != "provision" {
		t.Errorf("current_user = %q, %v", user, err)
	}
}
