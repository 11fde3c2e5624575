package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/provision/provision/internal/seal"
)

// keyCheck is sealed into the database when a key is first used, so that
// another key is refused at start even when no secret is stored yet.
const keyCheck = "provision secret key check"

const sealSchema = `CREATE TABLE IF NOT EXISTS sealing (id INTEGER PRIMARY KEY CHECK (id = 1), key_check TEXT NOT NULL);`

// Sealed reports whether the database holds secrets sealed with a key:
// then the key must be given (UseKey) before Load.
func (st *SQLStore) Sealed(ctx context.Context) (bool, error) {
	if _, err := st.db.ExecContext(ctx, sealSchema); err != nil {
		return false, fmt.Errorf("registry: %w", err)
	}
	var n int
	err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM sealing`).Scan(&n)
	return n > 0, err
}

// UseKey makes the store seal BMC passwords and build tokens with key.
// The first time, it seals every plaintext secret already stored (in one
// transaction); afterwards it refuses a key other than the one used then
// (seal.ErrWrongKey), before anything is read or written.
func (st *SQLStore) UseKey(ctx context.Context, key *seal.Key) error {
	if _, err := st.db.ExecContext(ctx, sealSchema); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: begin: %w", err)
	}
	defer tx.Rollback()
	// Sealing overwrites plaintext: secure_delete zeroes what it leaves
	// behind in the pages. (Sealed values need no such care.)
	if !st.db.pg {
		if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return fmt.Errorf("registry: %w", err)
		}
	}
	var check string
	err = tx.QueryRowContext(ctx, `SELECT key_check FROM sealing`).Scan(&check)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO sealing VALUES (1, ?)`, key.Seal(keyCheck)); err != nil {
			return fmt.Errorf("registry: %w", err)
		}
	case err != nil:
		return fmt.Errorf("registry: %w", err)
	default:
		if got, err := key.Open(check); err != nil || got != keyCheck {
			return wrongKey{}
		}
	}
	if err := sealPlaintext(ctx, tx, key); err != nil {
		return err
	}
	if err := sealSecretSettings(ctx, tx, key.Seal); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	// Move the sealed pages into the database file now, so that neither
	// the file nor the log keeps a plaintext copy.
	if !st.db.pg {
		if _, err := st.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("registry: checkpoint: %w", err)
		}
	}
	st.key = key
	return nil
}

// sealPlaintext seals the secrets stored before a key was used.
func sealPlaintext(ctx context.Context, tx sqlTx, key *seal.Key) error {
	for _, c := range []struct{ table, col, id string }{
		{"systems", "bmc_password", "name"},
		{"builds", "token", "system"},
	} {
		rows, err := tx.QueryContext(ctx, `SELECT `+c.id+`, `+c.col+` FROM `+c.table+` WHERE `+c.col+` != '' AND `+c.col+` NOT LIKE 'enc:%'`)
		if err != nil {
			return fmt.Errorf("registry: seal %s: %w", c.table, err)
		}
		plain := map[string]string{}
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			plain[id] = v
		}
		rows.Close()
		for id, v := range plain {
			q := `UPDATE ` + c.table + ` SET ` + c.col + ` = ? WHERE ` + c.id + ` = ?`
			if _, err := tx.ExecContext(ctx, q, key.Seal(v), id); err != nil {
				return fmt.Errorf("registry: seal %s of %s: %w", c.col, id, err)
			}
		}
	}
	return nil
}

// wrongKey is UseKey's refusal of a key; errors.Is(err, seal.ErrWrongKey).
type wrongKey struct{}

func (wrongKey) Error() string { return "the database's secrets were sealed with another key" }
func (wrongKey) Unwrap() error { return seal.ErrWrongKey }

// seal prepares a secret for storing.
func (st *SQLStore) seal(s Secret) string {
	if st.key == nil {
		return string(s)
	}
	return st.key.Seal(string(s))
}

// open reads a stored secret back.
func (st *SQLStore) open(stored string) (Secret, error) {
	if !seal.Sealed(stored) {
		return Secret(stored), nil
	}
	if st.key == nil {
		return "", errors.New("it is sealed, and the store has no key")
	}
	plain, err := st.key.Open(stored)
	return Secret(plain), err
}
