package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// userTables are the tables of schema 7: the users (a JSON document
// each) and their API tokens, of which only the SHA-256 is kept (hash;
// the document has no hash in it). The token's user is in a column of
// its own ("user" is a keyword of PostgreSQL) for the listing by user.
var userTables = []string{
	`CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, doc TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, username TEXT NOT NULL, hash TEXT NOT NULL, doc TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS tokens_user ON tokens(username)`,
}

// migrateUserTables is the migration from schema 6 to 7 (both backends).
func migrateUserTables(ctx context.Context, tx sqlTx) error {
	for _, stmt := range userTables {
		if tx.pg {
			stmt = strings.Replace(stmt, "TEXT PRIMARY KEY", `TEXT COLLATE "C" PRIMARY KEY`, 1)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("users: %w", err)
		}
	}
	return nil
}

// insertToken writes a token: a token is added and removed, never
// edited.
func insertToken(ctx context.Context, tx sqlTx, t *Token, doc []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO tokens VALUES (?,?,?,?)`, t.ID, t.User, t.Hash, doc)
	return err
}

func (st *SQLStore) loadTokens(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc, hash FROM tokens ORDER BY id`)
	if err != nil {
		return fmt.Errorf("registry: load tokens: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var hash string
		if err := rows.Scan(&doc, &hash); err != nil {
			return err
		}
		t, err := decodeToken(doc, hash)
		if err != nil {
			return err
		}
		d.Tokens = append(d.Tokens, *t)
	}
	return rows.Err()
}

func readToken(ctx context.Context, tx sqlTx, id string) (any, error) {
	var doc []byte
	var hash string
	if err := tx.QueryRowContext(ctx, `SELECT doc, hash FROM tokens WHERE id = ?`, id).Scan(&doc, &hash); err != nil {
		return nil, err
	}
	return decodeToken(doc, hash)
}

func decodeToken(doc []byte, hash string) (*Token, error) {
	var t Token
	if err := json.Unmarshal(doc, &t); err != nil {
		return nil, fmt.Errorf("registry: load tokens: %w", err)
	}
	t.Hash = hash
	return &t, nil
}
