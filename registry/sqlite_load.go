package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Load implements Store.
func (st *SQLStore) Load(ctx context.Context) (*Data, error) {
	d := &Data{Settings: map[string]string{}}
	if err := st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&d.Serial); err != nil {
		return nil, fmt.Errorf("registry: load serial: %w", err)
	}
	var instance int64
	err := st.db.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE key = 'epoch'), (SELECT value FROM meta WHERE key = 'instance')`).Scan(&d.Epoch, &instance)
	if err != nil {
		return nil, fmt.Errorf("registry: load epoch: %w", err)
	}
	d.Instance = fmt.Sprintf("%016x", uint64(instance))
	if err := loadDocs(ctx, st, "subnets", &d.Subnets); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "images", &d.Images); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "profiles", &d.Profiles); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "templates", &d.Templates); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "rules", &d.Rules); err != nil {
		return nil, err
	}
	if err := st.loadHooks(ctx, d); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "users", &d.Users); err != nil {
		return nil, err
	}
	if err := st.loadTokens(ctx, d); err != nil {
		return nil, err
	}
	if err := st.loadSystems(ctx, d); err != nil {
		return nil, err
	}
	if err := st.loadRecords(ctx, d); err != nil {
		return nil, err
	}
	rows, err := st.db.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("registry: load settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		d.Settings[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return d, st.loadSecrets(ctx, d)
}

func loadDocs[T any](ctx context.Context, st *SQLStore, table string, out *[]T) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc FROM `+table+` ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: load %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var v T
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &v); err != nil {
			return fmt.Errorf("registry: load %s: %w", table, err)
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

func (st *SQLStore) loadSystems(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc, bmc_password, COALESCE(builds.token, ''), COALESCE(inspections.token, '') FROM systems
		LEFT JOIN builds ON builds.system = systems.name LEFT JOIN inspections ON inspections.system = systems.name ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: load systems: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var pw, token, inspect string
		if err := rows.Scan(&doc, &pw, &token, &inspect); err != nil {
			return err
		}
		s, err := st.decodeSystem(doc, pw, token)
		if err != nil {
			return err
		}
		if s.InspectToken, err = st.open(inspect); err != nil {
			return fmt.Errorf("registry: the inspection token of system %s: %w", s.Name, err)
		}
		d.Systems = append(d.Systems, *s)
	}
	return rows.Err()
}

// decodeSystem is a system as stored: its document, with the sealed BMC
// password and build token opened.
func (st *SQLStore) decodeSystem(doc []byte, pw, token string) (*System, error) {
	var s System
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("registry: load systems: %w", err)
	}
	var err error
	if s.BMC != nil {
		if s.BMC.Password, err = st.openBMC(pw, s.Name, s.BMC.Address); err != nil {
			return nil, fmt.Errorf("registry: the bmc password of system %s: %w", s.Name, err)
		}
	}
	if s.BuildToken, err = st.open(token); err != nil {
		return nil, fmt.Errorf("registry: the build token of system %s: %w", s.Name, err)
	}
	return &s, nil
}

// History lists the last limit audit records (HistoryBefore from the end).
func (st *SQLStore) History(ctx context.Context, name string, limit int) ([]Change, error) {
	return st.HistoryBefore(ctx, name, 0, limit)
}

// HistoryBefore implements Store. An object's history follows its renames
// back: the history of web101 includes what happened to it as web001.
func (st *SQLStore) HistoryBefore(ctx context.Context, name string, before int64, limit int) ([]Change, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	q := `SELECT id, at, kind, name, op, old, new, note, actor, addr FROM history WHERE id < ? ORDER BY id DESC LIMIT ?`
	args := []any{before, limit}
	if name != "" {
		names, err := st.formerNames(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("registry: history: %w", err)
		}
		marks := strings.TrimSuffix(strings.Repeat("?,", len(names)), ",")
		q = `SELECT id, at, kind, name, op, old, new, note, actor, addr FROM history WHERE id < ? AND (name IN (` + marks + `) OR prev IN (` + marks + `)) ORDER BY id DESC LIMIT ?`
		args = []any{before}
		for range 2 {
			for _, n := range names {
				args = append(args, n)
			}
		}
		args = append(args, limit)
	}
	rows, err := st.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("registry: history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ID, &c.At, &c.Kind, &c.Name, &c.Op, &c.Old, &c.New, &c.Note, &c.By, &c.From); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

func (st *SQLStore) loadRecords(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT rr FROM records ORDER BY rr`)
	if err != nil {
		return fmt.Errorf("registry: load records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rr string
		if err := rows.Scan(&rr); err != nil {
			return err
		}
		d.Records = append(d.Records, rr)
	}
	return rows.Err()
}

// formerNames returns name and the names it had before renames.
func (st *SQLStore) formerNames(ctx context.Context, name string) ([]string, error) {
	names := []string{name}
	for i := 0; i < len(names) && len(names) < 100; i++ {
		rows, err := st.db.QueryContext(ctx, `SELECT prev FROM history WHERE name = ? AND op = 'rename'`, names[i])
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var prev string
			if err := rows.Scan(&prev); err == nil && !slices.Contains(names, prev) {
				names = append(names, prev)
			}
		}
		rows.Close()
	}
	return names, nil
}

// InstallLog implements Store.
func (st *SQLStore) InstallLog(ctx context.Context, system string) (*InstallLog, error) {
	l := &InstallLog{System: system}
	err := st.db.QueryRowContext(ctx, `SELECT at, size, log FROM install_logs WHERE system = ?`, system).Scan(&l.At, &l.Size, &l.Log)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &Error{ErrNotFound, "system " + system + " has no installer log"}
	}
	if err != nil {
		return nil, fmt.Errorf("registry: installer log of %s: %w", system, err)
	}
	return l, nil
}

// Audit implements Store.
func (st *SQLStore) Audit(ctx context.Context, cs []Change) error {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: begin: %w", err)
	}
	defer tx.Rollback()
	for _, c := range cs {
		_, err := tx.ExecContext(ctx, `INSERT INTO history (at, kind, name, prev, op, old, new, note, actor, addr) VALUES (?,?,?,'',?,'','',?,?,?)`,
			c.At, c.Kind, c.Name, c.Op, c.Note, c.By, c.From)
		if err != nil {
			return fmt.Errorf("registry: history: %w", err)
		}
	}
	return tx.Commit()
}
