package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// hookTables are the tables of schema 6: the hooks (their secret sealed
// apart from the document), each hook's cursor in the outbox (the last
// event fanned out to it), the outbox (the events, written in the
// commit of the change they report) and the deliveries (one per event a
// hook takes). Times of the deliveries are Unix milliseconds.
var hookTables = []string{
	`CREATE TABLE IF NOT EXISTS hooks (name TEXT PRIMARY KEY, secret TEXT NOT NULL, doc TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS hook_cursors (hook TEXT PRIMARY KEY, seq BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS outbox (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	at        TEXT NOT NULL,
	event     TEXT NOT NULL,
	system    TEXT NOT NULL,
	system_id TEXT NOT NULL,
	payload   TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	hook         TEXT NOT NULL,
	seq          BIGINT NOT NULL,
	system       TEXT NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	created      BIGINT NOT NULL,
	next_at      BIGINT NOT NULL,
	last_error   TEXT NOT NULL,
	delivered_at BIGINT NOT NULL,
	owner        TEXT NOT NULL,
	lease_until  BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_at)`,
	`CREATE INDEX IF NOT EXISTS deliveries_order ON deliveries(hook, system, state, id)`,
	`CREATE INDEX IF NOT EXISTS deliveries_seq ON deliveries(seq)`,
}

// migrateHookTables is the migration from schema 5 to 6 (both backends).
func migrateHookTables(ctx context.Context, tx sqlTx) error {
	for _, stmt := range hookTables {
		if tx.pg {
			stmt = strings.Replace(stmt, "TEXT PRIMARY KEY", `TEXT COLLATE "C" PRIMARY KEY`, 1)
			stmt = strings.Replace(stmt, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", 1)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("hooks: %w", err)
		}
	}
	return nil
}

// insertHook writes a hook with its secret sealed; a new hook's cursor
// starts at the newest event, so that it is sent what happens from now.
func insertHook(ctx context.Context, tx sqlTx, h *Hook, doc []byte, upsert bool, seal func(Secret) string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO hooks VALUES (?,?,?)`+onConflict(upsert, "name", "secret", "doc"), h.Name, seal(h.Secret), doc)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO hook_cursors VALUES (?, (SELECT COALESCE(MAX(seq), 0) FROM outbox)) ON CONFLICT(hook) DO NOTHING`, h.Name)
	return err
}

// hookRemoved drops a removed hook's cursor and deliveries.
func hookRemoved(ctx context.Context, tx sqlTx, name string) error {
	for _, q := range []string{`DELETE FROM hook_cursors WHERE hook = ?`, `DELETE FROM deliveries WHERE hook = ?`} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return fmt.Errorf("hook %s: %w", name, err)
		}
	}
	return nil
}

func (st *SQLStore) loadHooks(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc, secret FROM hooks ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: load hooks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var secret string
		if err := rows.Scan(&doc, &secret); err != nil {
			return err
		}
		h, err := st.decodeHook(doc, secret)
		if err != nil {
			return err
		}
		d.Hooks = append(d.Hooks, *h)
	}
	return rows.Err()
}

func (st *SQLStore) readHook(ctx context.Context, tx sqlTx, name string) (any, error) {
	var doc []byte
	var secret string
	if err := tx.QueryRowContext(ctx, `SELECT doc, secret FROM hooks WHERE name = ?`, name).Scan(&doc, &secret); err != nil {
		return nil, err
	}
	return st.decodeHook(doc, secret)
}

func (st *SQLStore) decodeHook(doc []byte, secret string) (*Hook, error) {
	var h Hook
	if err := json.Unmarshal(doc, &h); err != nil {
		return nil, fmt.Errorf("registry: load hooks: %w", err)
	}
	var err error
	if h.Secret, err = st.open(secret); err != nil {
		return nil, fmt.Errorf("registry: the secret of hook %s: %w", h.Name, err)
	}
	return &h, nil
}

// exportHooks lists the hooks, their secrets only withSecrets.
func exportHooks(s *Snapshot, withSecrets bool) []Hook {
	var out []Hook
	for _, h := range s.Hooks() {
		c := *h
		if !withSecrets {
			c.Secret = ""
		}
		out = append(out, c)
	}
	return out
}
