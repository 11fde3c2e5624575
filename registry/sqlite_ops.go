package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/provision/provision/kickstart"
)

// applyOp writes one Op and its audit record, at the commit's serial,
// inside tx; secrets go through seal.
func applyOp(ctx context.Context, tx sqlTx, op Op, seal func(Secret) string, serial uint64) error {
	// A renamed system keeps its installer log: the delete of its old row
	// would cascade to it, so it is moved aside and back.
	renamed := op.Kind == ObjSystem && op.Prev != "" && op.Obj != nil && op.Prev != op.Name
	if renamed {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS moved_log AS SELECT * FROM install_logs WHERE 1 = 0`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO moved_log SELECT ?, at, size, log FROM install_logs WHERE system = ?`, op.Name, op.Prev); err != nil {
			return err
		}
	}
	if err := deleteRow(ctx, tx, op); err != nil {
		return err
	}
	if op.Obj != nil {
		if err := insertRow(ctx, tx, op, seal); err != nil {
			return err
		}
	}
	if err := writeObjectSecrets(ctx, tx, op, seal); err != nil {
		return err
	}
	if renamed {
		if _, err := tx.ExecContext(ctx, `INSERT INTO install_logs SELECT * FROM moved_log`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM moved_log`); err != nil {
			return err
		}
	}
	if op.Link != nil {
		if err := linkMachine(ctx, tx, op.Link); err != nil {
			return err
		}
	}
	if l := op.Log; l != nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO install_logs VALUES (?,?,?,?) ON CONFLICT(system) DO UPDATE SET
			at = excluded.at, size = excluded.size, log = excluded.log`, l.System, l.At, l.Size, l.Log)
		if err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, insertHistory+`(?,?,?,?,?,?,?,?,?,?,?)`, historyRow(op, serial)...)
	return err
}

const insertHistory = `INSERT INTO history (at, kind, name, prev, op, old, new, note, actor, addr, serial) VALUES `

// historyRow is the values of op's audit record (insertHistory).
func historyRow(op Op, serial uint64) []any {
	a := op.Audit
	return []any{a.At, op.Kind, a.Name, op.Prev, a.Op, a.Old, a.New, a.Note, a.By, a.From, int64(serial)}
}

var tables = map[string]string{
	ObjSubnet: "subnets", ObjImage: "images", ObjProfile: "profiles", ObjSystem: "systems", ObjSetting: "settings", ObjRecord: "records",
	ObjTemplate: "templates", ObjSecretSetting: "secret_settings", ObjRule: "rules",
	ObjHook: "hooks", ObjUser: "users", ObjToken: "tokens",
}

// deleteRow removes the object stored under op.Prev. A system keeps its
// row on an in-place edit (its MACs and addresses are rewritten), so that
// nothing referencing it sees it vanish.
func deleteRow(ctx context.Context, tx sqlTx, op Op) error {
	if op.Prev == "" {
		return nil
	}
	table, key := tables[op.Kind], "name"
	switch op.Kind {
	case ObjSetting, ObjSecretSetting:
		key = "key"
	case ObjRecord:
		key = "rr"
	case ObjToken:
		key = "id"
	}
	if op.Kind == ObjSystem && op.Prev == op.Name {
		for _, q := range []string{`DELETE FROM macs WHERE system = ?`, `DELETE FROM addresses WHERE system = ?`, `DELETE FROM builds WHERE system = ?`, `DELETE FROM inspections WHERE system = ?`} {
			if _, err := tx.ExecContext(ctx, q, op.Prev); err != nil {
				return err
			}
		}
	}
	if op.Prev == op.Name && op.Obj != nil {
		return nil // replaced by an upsert in insertRow
	}
	if op.Kind == ObjHook && op.Obj == nil { // its deliveries go with it
		if err := hookRemoved(ctx, tx, op.Prev); err != nil {
			return err
		}
	}
	if op.Kind == ObjSystem && op.Obj == nil { // its machines' inventories go with it
		if err := unlinkMachines(ctx, tx, op.Prev); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, table, key), op.Prev)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%s %s is not in the database", op.Kind, op.Prev)
	}
	return nil
}

func insertRow(ctx context.Context, tx sqlTx, op Op, seal func(Secret) string) error {
	doc, err := json.Marshal(op.Obj)
	if err != nil {
		return err
	}
	// A new object is a plain INSERT, so that the primary key refuses a
	// duplicate; an in-place edit is an upsert.
	upsert := op.Prev == op.Name
	switch o := op.Obj.(type) {
	case *Setting:
		_, err = tx.ExecContext(ctx, `INSERT INTO settings VALUES (?,?)`+onConflict(upsert, "key", "value"), o.Key, o.Value)
	case *SecretSetting:
		_, err = tx.ExecContext(ctx, `INSERT INTO secret_settings VALUES (?,?)`+onConflict(upsert, "key", "value"), o.Key, seal(o.Value))
	case *Profile:
		_, err = tx.ExecContext(ctx, `INSERT INTO profiles VALUES (?,?,?)`+onConflict(upsert, "name", "image", "doc"), o.Name, o.Image, doc)
	case *System:
		err = insertSystem(ctx, tx, o, doc, upsert, seal)
	case *Record:
		_, err = tx.ExecContext(ctx, `INSERT INTO records VALUES (?)`, o.RR)
	case *Hook:
		err = insertHook(ctx, tx, o, doc, upsert, seal)
	case *Token:
		err = insertToken(ctx, tx, o, doc)
	case *Subnet, *Image, *kickstart.Template, *Rule, *User:
		_, err = tx.ExecContext(ctx, `INSERT INTO `+tables[op.Kind]+` VALUES (?,?)`+onConflict(upsert, "name", "doc"), op.Name, doc)
	default:
		err = fmt.Errorf("unknown object %T", op.Obj)
	}
	return err
}

func onConflict(upsert bool, key string, cols ...string) string {
	if !upsert {
		return ""
	}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
	}
	return " ON CONFLICT(" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

func insertSystem(ctx context.Context, tx sqlTx, s *System, doc []byte, upsert bool, seal func(Secret) string) error {
	pw := ""
	if s.BMC != nil {
		pw = seal(s.BMC.Password)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO systems VALUES (?,?,?,?,?)`+onConflict(upsert, "name", "hostname", "profile", "bmc_password", "doc"),
		s.Name, s.Hostname, s.Profile, pw, doc)
	if err != nil {
		return err
	}
	for _, r := range systemRows(s, seal) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+r.table+` VALUES (`+placeholders(len(r.vals))+`)`, r.vals...); err != nil {
			return err
		}
	}
	return nil
}

// tableRow is one row to insert into table.
type tableRow struct {
	table string
	vals  []any
}

// systemRows are the rows that go with a system's row: its MACs, its
// addresses (IP, BMC, interfaces'), its build and its inspection, the
// tokens through seal. insertSystem and a batch (sqlite_batch.go) write
// the same rows.
func systemRows(s *System, seal func(Secret) string) []tableRow {
	out := make([]tableRow, 0, len(s.MACs)+2)
	for _, m := range s.MACs {
		out = append(out, tableRow{"macs", []any{m, s.Name}})
	}
	out = append(out, tableRow{"addresses", []any{s.IP, s.Name, "ip"}})
	if s.BMC != nil {
		out = append(out, tableRow{"addresses", []any{s.BMC.Address, s.Name, "bmc"}})
	}
	for _, i := range s.Interfaces {
		if i.IP != "" {
			out = append(out, tableRow{"addresses", []any{i.IP, s.Name, "iface"}})
		}
	}
	if s.BuildToken != "" {
		out = append(out, tableRow{"builds", []any{seal(s.BuildToken), s.Name}})
	}
	if s.InspectToken != "" {
		out = append(out, tableRow{"inspections", []any{seal(s.InspectToken), s.Name}})
	}
	return out
}

// placeholders is "?,?,...", n of them.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
