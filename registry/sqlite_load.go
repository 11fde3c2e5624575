package registry

import (
	"context"
	"encoding/json"
	"fmt"
)

// Load implements Store.
func (st *SQLiteStore) Load(ctx context.Context) (*Data, error) {
	d := &Data{Settings: map[string]string{}}
	if err := st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&d.Serial); err != nil {
		return nil, fmt.Errorf("registry: load serial: %w", err)
	}
	if err := loadDocs(ctx, st, "subnets", &d.Subnets); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "images", &d.Images); err != nil {
		return nil, err
	}
	if err := loadDocs(ctx, st, "profiles", &d.Profiles); err != nil {
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
	return d, rows.Err()
}

func loadDocs[T any](ctx context.Context, st *SQLiteStore, table string, out *[]T) error {
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

func (st *SQLiteStore) loadSystems(ctx context.Context, d *Data) error {
	rows, err := st.db.QueryContext(ctx, `SELECT doc, bmc_password FROM systems ORDER BY name`)
	if err != nil {
		return fmt.Errorf("registry: load systems: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var pw string
		var s System
		if err := rows.Scan(&doc, &pw); err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &s); err != nil {
			return fmt.Errorf("registry: load systems: %w", err)
		}
		if s.BMC != nil {
			s.BMC.Password = Secret(pw)
		}
		d.Systems = append(d.Systems, s)
	}
	return rows.Err()
}

// History implements Store.
func (st *SQLiteStore) History(ctx context.Context, name string, limit int) ([]Change, error) {
	q := `SELECT id, at, kind, name, op, old, new, note FROM history WHERE ? = '' OR name = ? OR prev = ? ORDER BY id DESC LIMIT ?`
	rows, err := st.db.QueryContext(ctx, q, name, name, name, limit)
	if err != nil {
		return nil, fmt.Errorf("registry: history: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ID, &c.At, &c.Kind, &c.Name, &c.Op, &c.Old, &c.New, &c.Note); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}

func (st *SQLiteStore) loadRecords(ctx context.Context, d *Data) error {
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
