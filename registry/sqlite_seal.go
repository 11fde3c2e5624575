package registry

import (
	"context"
	"database/sql"
	"encoding/json"
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
	if err := bindBMCPasswords(ctx, tx, key); err != nil {
		return err
	}
	if err := sealSecretSettings(ctx, tx, key); err != nil {
		return err
	}
	if err := sealMachinePasswords(ctx, tx, key); err != nil {
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

// sealIndexes hold the rows UseKey seals or binds at every start: none,
// once it did, so that a start-up reads no other row of the systems and
// machines tables (a scan of every row took about 0.1 s at 100,000
// systems).
var sealIndexes = []string{
	`CREATE INDEX IF NOT EXISTS systems_bmc_plain ON systems(name) WHERE bmc_password != '' AND bmc_password NOT LIKE 'enc:%'`,
	`CREATE INDEX IF NOT EXISTS systems_bmc_v1 ON systems(name) WHERE bmc_password LIKE 'enc:v1:%'`,
	`CREATE INDEX IF NOT EXISTS machines_bmc_plain ON machines(mac) WHERE bmc_password != '' AND bmc_password NOT LIKE 'enc:%'`,
}

func migrateSealIndexes(ctx context.Context, tx sqlTx) error {
	for _, stmt := range sealIndexes {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("seal indexes: %w", err)
		}
	}
	return nil
}

// sealPlaintext seals the secrets stored before a key was used.
func sealPlaintext(ctx context.Context, tx sqlTx, key *seal.Key) error {
	for _, c := range []struct{ table, col, id string }{
		{"systems", "bmc_password", "name"},
		{"builds", "token", "system"},
		{"hooks", "secret", "name"},
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

// bmcContext is what a BMC password is sealed for (seal.SealFor): its
// system and the address it is sent to. Copied to another system's row,
// or kept across an address change, it does not open.
func bmcContext(system, address string) string {
	return "bmc password of system " + system + " at " + address
}

// openBMC reads a system's stored BMC password back.
func (st *SQLStore) openBMC(stored, system, address string) (Secret, error) {
	if !seal.Sealed(stored) {
		return Secret(stored), nil
	}
	if st.key == nil {
		return "", errors.New("it is sealed, and the store has no key")
	}
	plain, err := st.key.OpenFor(stored, bmcContext(system, address))
	if errors.Is(err, seal.ErrWrongKey) {
		err = fmt.Errorf("it was not sealed for this system and bmc address %s (copied from another row?), or it was altered: %w", address, err)
	}
	return Secret(plain), err
}

// bindBMC seals the BMC password of a system just written (op) for its
// system and address, over the unbound value insertSystem wrote.
func (st *SQLStore) bindBMC(ctx context.Context, tx sqlTx, op Op) error {
	s, ok := op.Obj.(*System)
	if !ok || st.key == nil || s.BMC == nil || s.BMC.Password == "" {
		return nil
	}
	sealed := st.key.SealFor(string(s.BMC.Password), bmcContext(s.Name, s.BMC.Address))
	if _, err := tx.ExecContext(ctx, `UPDATE systems SET bmc_password = ? WHERE name = ?`, sealed, s.Name); err != nil {
		return fmt.Errorf("registry: seal the bmc password of system %s: %w", s.Name, err)
	}
	return nil
}

// bindBMCPasswords migrates the BMC passwords sealed by earlier versions,
// bound to nothing (seal v1), to values bound to their system and
// address.
func bindBMCPasswords(ctx context.Context, tx sqlTx, key *seal.Key) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, bmc_password, doc FROM systems WHERE bmc_password LIKE 'enc:v1:%'`)
	if err != nil {
		return fmt.Errorf("registry: bind bmc passwords: %w", err)
	}
	bound := map[string]string{}
	for rows.Next() {
		var name, v string
		var doc []byte
		if err := rows.Scan(&name, &v, &doc); err != nil {
			rows.Close()
			return err
		}
		var s System
		plain, err := key.Open(v)
		if err == nil {
			err = json.Unmarshal(doc, &s)
		}
		if err != nil || s.BMC == nil {
			rows.Close()
			return fmt.Errorf("registry: the bmc password of system %s: %v", name, err)
		}
		bound[name] = key.SealFor(plain, bmcContext(name, s.BMC.Address))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for name, v := range bound {
		if _, err := tx.ExecContext(ctx, `UPDATE systems SET bmc_password = ? WHERE name = ?`, v, name); err != nil {
			return fmt.Errorf("registry: bind the bmc password of system %s: %w", name, err)
		}
	}
	return nil
}
