package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/inventory"
)

// machineTables are the tables of schema 5 (both backends): machines
// (inventories, by boot MAC), rules (documents, like templates) and
// inspections (the token of a system's inspection, like builds).
var machineTables = []string{
	`CREATE TABLE IF NOT EXISTS machines (
	mac          TEXT PRIMARY KEY,
	serial       TEXT NOT NULL,
	system_id    TEXT NOT NULL,
	subnet       TEXT NOT NULL,
	ip           TEXT NOT NULL,
	state        TEXT NOT NULL,
	reason       TEXT NOT NULL,
	rule         TEXT NOT NULL,
	watch        INTEGER NOT NULL,
	bmc          TEXT NOT NULL,
	bmc_password TEXT NOT NULL,
	inventory    TEXT NOT NULL,
	first_seen   TEXT NOT NULL,
	updated      TEXT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS machines_serial ON machines(serial)`,
	`CREATE INDEX IF NOT EXISTS machines_updated ON machines(state, updated)`,
	`CREATE TABLE IF NOT EXISTS rules (name TEXT PRIMARY KEY, doc TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS inspections (
	token  TEXT PRIMARY KEY,
	system TEXT NOT NULL UNIQUE REFERENCES systems(name) ON DELETE CASCADE)`,
}

// migrateMachineTables is the migration from schema 4 to 5.
func migrateMachineTables(ctx context.Context, tx sqlTx) error {
	for _, stmt := range machineTables {
		if tx.pg {
			stmt = strings.Replace(stmt, "TEXT PRIMARY KEY", `TEXT COLLATE "C" PRIMARY KEY`, 1)
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("machines: %w", err)
		}
	}
	return nil
}

// DefaultMachineCap is how many discovered machines the machines table
// keeps: the oldest reports of discovered ones go first; registered
// systems' inventories are never pruned.
const DefaultMachineCap = 10000

// SetMachineCap changes how many discovered machines are kept (n >= 1).
func (st *SQLStore) SetMachineCap(n int) { st.machineCap.Store(int64(max(n, 1))) }

// machineLimit is SQLStore.machineCap.
type machineLimit struct{ atomic.Int64 }

// machineRow is a machines row: the Machine with its stored system
// identity (the name is the Snapshot's).
type machineRow struct {
	Machine
	SystemID string
}

const machineCols = `mac, serial, system_id, subnet, ip, state, reason, rule, watch, bmc, inventory, first_seen, updated`

// saveMachine implements machineStore: an upsert of m's report (its
// reason, rule, watch and BMC are kept as stored), then the oldest
// discovered machines beyond the cap are pruned. It returns the row as
// it was before (nil: new).
func (st *SQLStore) saveMachine(ctx context.Context, m machineRow) (*machineRow, error) {
	inv, err := json.Marshal(m.Inventory)
	if err != nil {
		return nil, err
	}
	if len(inv) > inventory.MaxBytes {
		return nil, invalidf("machine %s: the inventory is %d bytes, the limit is %d", m.MAC, len(inv), inventory.MaxBytes)
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	old, err := scanMachine(tx.QueryRowContext(ctx, `SELECT `+machineCols+` FROM machines WHERE mac = ?`, m.MAC))
	if errors.Is(err, sql.ErrNoRows) {
		old, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO machines VALUES (?,?,?,?,?,?,'','',0,'','',?,?,?) ON CONFLICT(mac) DO UPDATE SET
		serial = excluded.serial, system_id = excluded.system_id, subnet = excluded.subnet, ip = excluded.ip,
		state = excluded.state, inventory = excluded.inventory, updated = excluded.updated`,
		m.MAC, m.Serial, m.SystemID, m.Subnet, m.IP, m.State, inv, rfc(m.Updated), rfc(m.Updated))
	if err != nil {
		return nil, err
	}
	limit := st.machineCap.Load()
	if limit == 0 {
		limit = DefaultMachineCap
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM machines WHERE state = 'discovered' AND updated < (
		SELECT updated FROM machines WHERE state = 'discovered' ORDER BY updated DESC LIMIT 1 OFFSET ?)`, limit-1)
	if err != nil {
		return nil, err
	}
	return old, tx.Commit()
}

type scanner interface{ Scan(...any) error }

func scanMachine(row scanner) (*machineRow, error) {
	var m machineRow
	var watch int
	var bmc, inv, first, updated string
	if err := row.Scan(&m.MAC, &m.Serial, &m.SystemID, &m.Subnet, &m.IP, &m.State, &m.Reason, &m.Rule, &watch, &bmc, &inv, &first, &updated); err != nil {
		return nil, err
	}
	m.Watch = watch != 0
	if bmc != "" {
		m.BMC = &MachineBMC{}
		if err := json.Unmarshal([]byte(bmc), m.BMC); err != nil {
			return nil, fmt.Errorf("machine %s: bmc: %w", m.MAC, err)
		}
	}
	if err := json.Unmarshal([]byte(inv), &m.Inventory); err != nil {
		return nil, fmt.Errorf("machine %s: inventory: %w", m.MAC, err)
	}
	m.FirstSeen, _ = time.Parse(time.RFC3339Nano, first)
	m.Updated, _ = time.Parse(time.RFC3339Nano, updated)
	return &m, nil
}

// loadMachines implements machineStore: the machines whose column col
// ("mac" or "serial") is key.
func (st *SQLStore) loadMachines(ctx context.Context, col, key string) ([]machineRow, error) {
	if col != "mac" && col != "serial" {
		return nil, fmt.Errorf("machines: no column %q to look up by", col)
	}
	return st.queryMachines(ctx, `SELECT `+machineCols+` FROM machines WHERE `+col+` = ? ORDER BY mac LIMIT 10`, key)
}

// machinePage implements machineStore: at most limit machines of state
// ("" every state), last updated first, after the cursor after.
func (st *SQLStore) machinePage(ctx context.Context, state, after string, limit int) ([]machineRow, error) {
	q, args := `SELECT `+machineCols+` FROM machines WHERE 1 = 1`, []any{}
	if state != "" {
		q, args = q+` AND state = ?`, append(args, state)
	}
	if after != "" {
		at, mac, ok := strings.Cut(after, "_")
		if !ok {
			return nil, invalidf("machines: cursor %q does not parse", after)
		}
		q += ` AND (updated < ? OR (updated = ? AND mac > ?))`
		args = append(args, at, at, mac)
	}
	return st.queryMachines(ctx, q+` ORDER BY updated DESC, mac LIMIT ?`, append(args, limit)...)
}

func (st *SQLStore) queryMachines(ctx context.Context, q string, args ...any) ([]machineRow, error) {
	rows, err := st.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []machineRow
	for rows.Next() {
		m, err := scanMachine(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// updateMachine implements machineStore: one column of mac's row (the
// names are this file's, never a caller's). It reports whether the row
// exists.
func (st *SQLStore) updateMachine(ctx context.Context, mac, col string, v any) (bool, error) {
	switch col {
	case "reason", "rule", "watch":
	default:
		return false, fmt.Errorf("machines: no column %q to update", col)
	}
	res, err := st.db.ExecContext(ctx, `UPDATE machines SET `+col+` = ? WHERE mac = ?`, v, mac)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// deleteMachine implements machineStore.
func (st *SQLStore) deleteMachine(ctx context.Context, mac string) (bool, error) {
	res, err := st.db.ExecContext(ctx, `DELETE FROM machines WHERE mac = ?`, mac)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// machineBMCContext is what an enrolled BMC password is sealed for.
func machineBMCContext(mac string) string { return "bmc password of machine " + mac }

// setMachineBMC implements machineStore: the enrolment's outcome, and
// its password sealed ("" keeps the stored one).
func (st *SQLStore) setMachineBMC(ctx context.Context, mac string, b MachineBMC, password Secret) (bool, error) {
	doc, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	q, args := `UPDATE machines SET bmc = ? WHERE mac = ?`, []any{doc, mac}
	if password != "" {
		pw := string(password)
		if st.key != nil {
			pw = st.key.SealFor(pw, machineBMCContext(mac))
		}
		q, args = `UPDATE machines SET bmc = ?, bmc_password = ? WHERE mac = ?`, []any{doc, pw, mac}
	}
	res, err := st.db.ExecContext(ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// machineBMCPassword implements machineStore.
func (st *SQLStore) machineBMCPassword(ctx context.Context, mac string) (Secret, error) {
	var stored string
	err := st.db.QueryRowContext(ctx, `SELECT bmc_password FROM machines WHERE mac = ?`, mac).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("machine", mac)
	}
	if err != nil || !seal.Sealed(stored) {
		return Secret(stored), err
	}
	if st.key == nil {
		return "", fmt.Errorf("machine %s: the bmc password is sealed, and the store has no key", mac)
	}
	plain, err := st.key.OpenFor(stored, machineBMCContext(mac))
	if err != nil {
		return "", fmt.Errorf("machine %s: the bmc password: %w", mac, err)
	}
	return Secret(plain), nil
}

// linkMachine marks mac's row registered as the system with identity id
// (accepted by rule, or by hand when rule is ""), inside a commit.
func linkMachine(ctx context.Context, tx sqlTx, l *MachineLink) error {
	_, err := tx.ExecContext(ctx, `UPDATE machines SET state = 'registered', system_id = ?, rule = ?, reason = '' WHERE mac = ?`,
		l.SystemID, l.Rule, l.MAC)
	return err
}

// unlinkMachines removes, with a system being removed (inside its
// commit, before its MACs go), the inventories of its machines.
func unlinkMachines(ctx context.Context, tx sqlTx, system string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM machines WHERE state = 'registered' AND mac IN (SELECT mac FROM macs WHERE system = ?)`, system)
	return err
}

// sealMachinePasswords seals, at a store's first key, the enrolled BMC
// passwords stored before it (a store without a key keeps plaintext).
func sealMachinePasswords(ctx context.Context, tx sqlTx, key *seal.Key) error {
	rows, err := tx.QueryContext(ctx, `SELECT mac, bmc_password FROM machines WHERE bmc_password != '' AND bmc_password NOT LIKE 'enc:%'`)
	if err != nil {
		return fmt.Errorf("registry: seal machines' bmc passwords: %w", err)
	}
	plain := map[string]string{}
	for rows.Next() {
		var mac, pw string
		if err := rows.Scan(&mac, &pw); err != nil {
			rows.Close()
			return err
		}
		plain[mac] = pw
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for mac, pw := range plain {
		if _, err := tx.ExecContext(ctx, `UPDATE machines SET bmc_password = ? WHERE mac = ?`, key.SealFor(pw, machineBMCContext(mac)), mac); err != nil {
			return fmt.Errorf("registry: seal the bmc password of machine %s: %w", mac, err)
		}
	}
	return nil
}
