package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// batch gathers the rows of the ops of a commit that only add a system,
// and writes them with multi-row INSERTs, each statement prepared once
// per commit: an import of 100,000 systems is a few hundred statements
// instead of half a million. Rows are written in the order the ops come
// (flush before any other op), with the same values applyOp, bindBMC and
// bindSecrets leave.
type batch struct {
	st     *SQLStore
	serial uint64
	rows   map[string][][]any // by table
	stmts  map[string]*sql.Stmt
}

// batchTables are the tables a batch writes, in the order it writes them
// (a system's row before the rows that reference it), and their columns.
var batchTables = []struct{ name, insert string }{
	{"systems", `INSERT INTO systems VALUES `},
	{"macs", `INSERT INTO macs VALUES `},
	{"addresses", `INSERT INTO addresses VALUES `},
	{"builds", `INSERT INTO builds VALUES `},
	{"inspections", `INSERT INTO inspections VALUES `},
	{"history", insertHistory},
}

// batchParams bounds the parameters of one statement (SQLite takes
// 32,766, PostgreSQL 65,535).
const batchParams = 4000

func newBatch(st *SQLStore, serial uint64) *batch {
	return &batch{st: st, serial: serial, rows: map[string][][]any{}, stmts: map[string]*sql.Stmt{}}
}

// add takes op into the batch if it only adds a system (no installer
// log, no discovered machine, no secret settings); false: write op
// itself, after flush.
func (b *batch) add(op Op) (bool, error) {
	s, ok := op.Obj.(*System)
	if !ok || s == nil || op.Prev != "" || op.Log != nil || op.Link != nil || len(s.SecretSettings) > 0 {
		return false, nil
	}
	doc := []byte(op.Audit.New) // the object's JSON (op): the same bytes as insertRow's
	if len(doc) == 0 {
		var err error
		if doc, err = json.Marshal(s); err != nil {
			return false, err
		}
	}
	b.rows["systems"] = append(b.rows["systems"], []any{s.Name, s.Hostname, s.Profile, b.bmcPassword(s), doc})
	for _, r := range systemRows(s, b.st.seal) {
		b.rows[r.table] = append(b.rows[r.table], r.vals)
	}
	b.rows["history"] = append(b.rows["history"], historyRow(op, b.serial))
	return true, nil
}

// bmcPassword is the stored BMC password of s: sealed for its system and
// address, as bindBMC leaves it.
func (b *batch) bmcPassword(s *System) string {
	switch {
	case s.BMC == nil:
		return ""
	case b.st.key != nil && s.BMC.Password != "":
		return b.st.key.SealFor(string(s.BMC.Password), bmcContext(s.Name, s.BMC.Address))
	}
	return b.st.seal(s.BMC.Password)
}

// flush writes the rows gathered so far.
func (b *batch) flush(ctx context.Context, tx sqlTx) error {
	for _, t := range batchTables {
		rows := b.rows[t.name]
		for len(rows) > 0 {
			n := min(len(rows), batchParams/len(rows[0]))
			if err := b.insert(ctx, tx, t.insert, rows[:n]); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			rows = rows[n:]
		}
		delete(b.rows, t.name)
	}
	return nil
}

// insert writes rows with one statement. A short plain value that every
// row of several has in the same column (an import's time, actor,
// serial, kind...) is written once into the statement's text instead of
// bound for each row: binding is much of a large import's cost. A
// statement of a text seen before in the commit is reused.
func (b *batch) insert(ctx context.Context, tx sqlTx, insert string, rows [][]any) error {
	width := len(rows[0])
	literal := make([]string, width) // "": bound for each row
	if len(rows) > 1 {
		for c := range width {
			literal[c] = sharedLiteral(rows, c)
		}
	}
	var q strings.Builder
	q.WriteString(insert)
	args := make([]any, 0, len(rows)*width)
	for i, r := range rows {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		for c, v := range r {
			if c > 0 {
				q.WriteByte(',')
			}
			if literal[c] != "" {
				q.WriteString(literal[c])
				continue
			}
			q.WriteByte('?')
			args = append(args, v)
		}
		q.WriteByte(')')
	}
	stmt, ok := b.stmts[q.String()]
	if !ok {
		var err error
		if stmt, err = tx.PrepareContext(ctx, q.String()); err != nil {
			return err
		}
		b.stmts[q.String()] = stmt
	}
	_, err := stmt.ExecContext(ctx, args...)
	return err
}

// sharedLiteral is the SQL literal of the value every row has in column
// c, if it is a number or a short text of plain characters only (no
// quote, backslash or "?", so that the literal reads the same on both
// backends and rebind has no "?" to number in it); "" if not.
func sharedLiteral(rows [][]any, c int) string {
	v := rows[0][c]
	switch v.(type) {
	case string, int64:
	default:
		return "" // a []byte does not compare
	}
	for _, r := range rows[1:] {
		if r[c] != v {
			return ""
		}
	}
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return !plainRune(r) }) {
			return ""
		}
		return "'" + v + "'"
	}
	return ""
}

// plainRune: r may stand in a literal as itself.
func plainRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(" -_.:@+/", r)
}

// close releases the prepared statements.
func (b *batch) close() {
	for _, s := range b.stmts {
		s.Close()
	}
}
