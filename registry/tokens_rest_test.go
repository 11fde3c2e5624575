package registry

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The database holds no token: after tokens are made (and one revoked,
// and a user exported), no column of any table holds a token or its
// secret part; the hash is there.
func TestTokensOnlyHashedAtRest(t *testing.T) {
	r, _ := openTokens(t)
	ctx := context.Background()
	var secrets, hashes, ids []string
	for _, label := range []string{"", "ci", "laptop"} {
		s, tok, err := r.CreateToken(ctx, "alice", label, time.Time{}, label == "")
		if err != nil {
			t.Fatal(err)
		}
		secrets, hashes, ids = append(secrets, s), append(hashes, tok.Hash), append(ids, tok.ID)
	}
	if _, err := r.RevokeToken(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	doc, err := r.Snapshot().Export(true)
	if err != nil {
		t.Fatal(err)
	}
	dump := dumpTables(t, r.store.(*SQLStore))
	for i, s := range secrets {
		// prv_<id>_<secret>: the secret is base64url, which may hold
		// '_' itself, so it is what follows the second '_'.
		secretPart := strings.SplitN(s, "_", 3)[2]
		if len(secretPart) != 43 {
			t.Fatalf("token %d: secret part %d characters, want 43", i, len(secretPart))
		}
		for what, text := range map[string]string{"the database": dump, "the export": string(doc)} {
			if strings.Contains(text, s) || strings.Contains(text, secretPart) {
				t.Errorf("%s holds token %d", what, i)
			}
		}
		if strings.Contains(string(doc), hashes[i]) {
			t.Errorf("the export holds the hash of token %d", i)
		}
	}
	if !strings.Contains(dump, hashes[1]) {
		t.Error("the database does not hold the hash of a live token: the test reads the wrong thing")
	}
	if !strings.Contains(string(doc), "name: alice") || strings.Contains(string(doc), "tokens") {
		t.Errorf("export:\n%s", doc)
	}
}

// dumpTables is every table's every value as text.
func dumpTables(t *testing.T, st *SQLStore) string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.db.pg {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	rows, err := st.db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := st.db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%s\t%v\n", table, v)
			}
		}
		rows.Close()
	}
	return b.String()
}
