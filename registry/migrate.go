package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// migrateTables are the tables Migrate copies, parents before children:
// profiles refer to images, systems to profiles, and macs, addresses,
// builds and install_logs to systems.
var migrateTables = []string{
	"subnets", "images", "profiles", "systems", "macs", "addresses", "builds", "install_logs",
	"templates", "settings", "secret_settings", "object_secrets", "records", "history", "events", "leases", "discovered", "sealing",
	"machines", "rules", "inspections",
	"hooks", "hook_cursors", "outbox", "deliveries",
	"users", "tokens",
}

// migrateSkipped are the tables Migrate leaves alone, and why.
var migrateSkipped = map[string]string{
	"meta":            "the database's own: schema version, epoch and instance (only the serial is carried forward)",
	"sqlite_sequence": "SQLite's AUTOINCREMENT counters: read to set PostgreSQL's sequences",
}

// migrateHook, if set (by tests), runs after each table is copied; its
// error fails the migration.
var migrateHook func(table string) error

// TableCount is how many rows Migrate copied into a table.
type TableCount struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
}

// Migrate copies the registry in from into to, which must be empty (but
// for what opening it wrote itself), every table of migrateTables in one
// transaction of to: on any error nothing is left in to. Both must be at
// SchemaVersion. from is read in one read-only transaction, a consistent
// snapshot. Values are converted to the column types of to (migrateValue).
// The sequences of to's identity columns are set past the ids copied, and
// past the highest id SQLite ever gave, and to's serial is raised to
// from's, so that SOA serials keep rising. Secrets stay sealed as they
// are: the appliances on to need from's secret key.
func Migrate(ctx context.Context, from, to *SQLStore) ([]TableCount, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if from.db.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	src, err := from.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("migrate: source: begin: %w", err)
	}
	defer src.Rollback()
	// The one table a store makes at its first key (Sealed does as much).
	if _, err := to.db.ExecContext(ctx, sealSchema); err != nil {
		return nil, fmt.Errorf("migrate: target: %w", err)
	}
	dst, err := to.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: target: begin: %w", err)
	}
	defer dst.Rollback()
	if err := checkMigrateVersion(ctx, src, "source"); err != nil {
		return nil, err
	}
	if err := checkMigrateVersion(ctx, dst, "target"); err != nil {
		return nil, err
	}
	if err := checkTargetEmpty(ctx, dst); err != nil {
		return nil, err
	}
	counts := make([]TableCount, 0, len(migrateTables))
	for _, table := range migrateTables {
		n, err := copyTable(ctx, src, dst, table)
		if err != nil {
			return nil, fmt.Errorf("migrate: table %s: %w", table, err)
		}
		if migrateHook != nil {
			if err := migrateHook(table); err != nil {
				return nil, fmt.Errorf("migrate: after table %s: %w", table, err)
			}
		}
		counts = append(counts, TableCount{table, n})
	}
	if err := carrySerial(ctx, src, dst); err != nil {
		return nil, err
	}
	if err := dst.Commit(); err != nil {
		return nil, fmt.Errorf("migrate: target: commit: %w", err)
	}
	return counts, nil
}

// checkMigrateVersion refuses a database whose schema is not this build's.
func checkMigrateVersion(ctx context.Context, tx sqlTx, side string) error {
	var v int
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate: %s: read the schema version: %w", side, err)
	}
	if v != SchemaVersion {
		return fmt.Errorf("migrate: the %s database's schema is version %d, this provision's is %d: open both with this provision first", side, v, SchemaVersion)
	}
	return nil
}

// checkTargetEmpty refuses a target that holds rows in a table to copy;
// on PostgreSQL it first locks the tables against other writers (an
// appliance started meanwhile) until the commit.
func checkTargetEmpty(ctx context.Context, dst sqlTx) error {
	if dst.pg {
		if _, err := dst.ExecContext(ctx, `LOCK TABLE `+strings.Join(migrateTables, ", ")+` IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("migrate: target: lock the tables: %w", err)
		}
	}
	for _, table := range migrateTables {
		var n int64
		if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&n); err != nil {
			return fmt.Errorf("migrate: target table %s: %w", table, err)
		}
		if n > 0 {
			return &Error{ErrConflict, fmt.Sprintf("migrate: target table %s already holds %d %s (migrate copies into an empty database only; nothing was changed)",
				table, n, plural(n, "row"))}
		}
	}
	return nil
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// copyTable copies every row of table from src to dst, converted to dst's
// column types, and sets the sequences of dst's identity columns.
func copyTable(ctx context.Context, src, dst sqlTx, table string) (int64, error) {
	if ok, err := hasTable(ctx, src, table); err != nil || !ok { // sealing: made at the first key
		return 0, err
	}
	target, err := columnsOf(ctx, dst, table)
	if err != nil {
		return 0, fmt.Errorf("target columns: %w", err)
	}
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+quoteIdent(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	cols := make([]column, len(names))
	for i, name := range names {
		c, ok := target[name]
		if !ok {
			return 0, fmt.Errorf("the target has no column %s", name)
		}
		cols[i] = c
	}
	ins := newInserter(dst, table, names, cols)
	vals, ptrs := make([]any, len(names)), make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, err
		}
		for i, v := range vals {
			if vals[i], err = migrateValue(v, cols[i].kind); err != nil {
				return 0, fmt.Errorf("column %s: %w", names[i], err)
			}
		}
		if err := ins.add(ctx, vals); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if err := ins.flush(ctx); err != nil {
		return 0, err
	}
	return ins.n, setSequences(ctx, src, dst, table, names, cols)
}

// hasTable reports whether the database has table.
func hasTable(ctx context.Context, tx sqlTx, table string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if tx.pg {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	err := tx.QueryRowContext(ctx, q, table).Scan(&n)
	return n > 0, err
}

// column is what the target says of one of its columns.
type column struct {
	kind     string // valueText, valueInt, ... (columnKind)
	identity bool   // PostgreSQL GENERATED ... AS IDENTITY: inserted with OVERRIDING SYSTEM VALUE
	sequence bool   // it draws from a sequence (identity or serial), set after the copy
}

// columnsOf returns the columns of table, by name.
func columnsOf(ctx context.Context, tx sqlTx, table string) (map[string]column, error) {
	q := `SELECT name, type, 'NO', '' FROM pragma_table_info(?)`
	if tx.pg {
		q = `SELECT column_name, data_type, is_identity, COALESCE(column_default, '') FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ?`
	}
	rows, err := tx.QueryContext(ctx, q, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]column{}
	for rows.Next() {
		var name, typ, identity, def string
		if err := rows.Scan(&name, &typ, &identity, &def); err != nil {
			return nil, err
		}
		id := identity == "YES"
		out[name] = column{kind: columnKind(typ), identity: id, sequence: id || strings.HasPrefix(def, "nextval(")}
	}
	if len(out) == 0 && rows.Err() == nil {
		return nil, fmt.Errorf("no table %s", table)
	}
	return out, rows.Err()
}

// The kinds of value a column holds, from its declared type.
const (
	valueAny   = ""
	valueText  = "text"
	valueInt   = "integer"
	valueFloat = "float"
	valueBool  = "boolean"
	valueBytes = "bytes"
	valueTime  = "timestamp"
)

// columnKind maps a declared type, PostgreSQL's data_type or SQLite's
// (by its affinity rules), to the kind of value it holds.
func columnKind(typ string) string {
	t := strings.ToUpper(typ)
	switch {
	case strings.HasPrefix(t, "BOOL"):
		return valueBool
	case strings.HasPrefix(t, "TIMESTAMP"), t == "DATE", t == "DATETIME":
		return valueTime
	case strings.Contains(t, "INT"):
		return valueInt
	case strings.Contains(t, "CHAR"), strings.Contains(t, "CLOB"), strings.Contains(t, "TEXT"):
		return valueText
	case t == "BYTEA", strings.Contains(t, "BLOB"):
		return valueBytes
	case strings.Contains(t, "REAL"), strings.Contains(t, "FLOA"), strings.Contains(t, "DOUB"), t == "NUMERIC":
		return valueFloat
	}
	return valueAny
}

// migrateValue converts a value read from the source (nil, int64,
// float64, bool, []byte, string or time.Time) to the kind of its target
// column: SQLite keeps any value in any column, and PostgreSQL takes
// BYTEA as bytes, TEXT as valid UTF-8, BOOLEAN from 0/1 and TIMESTAMPTZ
// from text or Unix seconds. A value that does not fit is an error.
func migrateValue(v any, kind string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case valueText:
		return toText(v)
	case valueBytes:
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case valueInt:
		return toInt(v)
	case valueBool:
		return toBool(v)
	case valueFloat:
		return toFloat(v)
	case valueTime:
		return toTime(v)
	}
	return v, nil
}

func toText(v any) (any, error) {
	switch x := v.(type) {
	case []byte:
		if !utf8.Valid(x) {
			return nil, errors.New("bytes that are not UTF-8 text")
		}
		return string(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	}
	return v, nil
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if x != float64(int64(x)) {
			return nil, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string, []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(asString(x)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", asString(x))
		}
		return n, nil
	}
	return v, nil
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string, []byte:
		b, err := strconv.ParseBool(strings.TrimSpace(asString(x)))
		if err != nil {
			return nil, fmt.Errorf("%q is not a boolean", asString(x))
		}
		return b, nil
	}
	return v, nil
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return float64(x), nil
	case string, []byte:
		f, err := strconv.ParseFloat(strings.TrimSpace(asString(x)), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", asString(x))
		}
		return f, nil
	}
	return v, nil
}

// timeLayouts are the text forms of a time SQLite may hold: Go's and
// SQLite's own (datetime()).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case int64: // Unix seconds
		return time.Unix(x, 0).UTC(), nil
	case string, []byte:
		s := strings.TrimSpace(asString(x))
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return nil, fmt.Errorf("%q is not a time", s)
	}
	return v, nil
}

func asString(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v.(string)
}

// inserter inserts rows into a table, many per statement.
type inserter struct {
	tx     sqlTx
	head   string // INSERT INTO t (cols) [OVERRIDING SYSTEM VALUE] VALUES
	marks  string // (?,?,...)
	per    int    // rows per statement
	args   []any
	queued int
	n      int64 // rows inserted
}

func newInserter(tx sqlTx, table string, names []string, cols []column) *inserter {
	quoted := make([]string, len(names))
	override := ""
	for i, name := range names {
		quoted[i] = quoteIdent(name)
		if tx.pg && cols[i].identity {
			override = " OVERRIDING SYSTEM VALUE"
		}
	}
	return &inserter{
		tx:    tx,
		head:  "INSERT INTO " + quoteIdent(table) + " (" + strings.Join(quoted, ", ") + ")" + override + " VALUES ",
		marks: "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")",
		per:   max(1, min(200, 30000/max(1, len(names)))), // under both backends' limits on parameters
	}
}

func (in *inserter) add(ctx context.Context, row []any) error {
	in.args = append(in.args, row...)
	if in.queued++; in.queued == in.per {
		return in.flush(ctx)
	}
	return nil
}

func (in *inserter) flush(ctx context.Context) error {
	if in.queued == 0 {
		return nil
	}
	q := in.head + strings.TrimSuffix(strings.Repeat(in.marks+",", in.queued), ",")
	if _, err := in.tx.ExecContext(ctx, q, in.args...); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	in.n += int64(in.queued)
	in.args, in.queued = in.args[:0], 0
	return nil
}

// setSequences sets the counters of table's ids past the highest id
// copied and the highest SQLite's AUTOINCREMENT ever gave (rows since
// deleted, trimmed events, kept theirs), so that the next insert neither
// collides nor reuses an id: on PostgreSQL the sequence of each column
// that has one, on SQLite the table's row of sqlite_sequence (which
// follows the ids inserted by itself, but not those deleted).
func setSequences(ctx context.Context, src, dst sqlTx, table string, names []string, cols []column) error {
	high, err := autoincrement(ctx, src, table)
	if err != nil {
		return err
	}
	if !dst.pg {
		if high == 0 {
			return nil
		}
		_, err := dst.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`, table, table)
		if err == nil {
			_, err = dst.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?`, high, table)
		}
		if err != nil {
			return fmt.Errorf("set the AUTOINCREMENT counter: %w", err)
		}
		return nil
	}
	for i, name := range names {
		if !cols[i].sequence {
			continue
		}
		q := `SELECT setval(pg_get_serial_sequence(?, ?), GREATEST(COALESCE(MAX(` + quoteIdent(name) + `), 0), ?) + 1, false) FROM ` + quoteIdent(table)
		if _, err := dst.ExecContext(ctx, q, table, name, high); err != nil {
			return fmt.Errorf("set the sequence of %s: %w", name, err)
		}
	}
	return nil
}

// autoincrement is the highest id SQLite's AUTOINCREMENT gave in table
// (0 on PostgreSQL, or when it never gave one).
func autoincrement(ctx context.Context, src sqlTx, table string) (int64, error) {
	if src.pg {
		return 0, nil
	}
	if ok, err := hasTable(ctx, src, "sqlite_sequence"); err != nil || !ok {
		return 0, err
	}
	var high int64
	err := src.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&high)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return high, err
}

// carrySerial raises the target's serial to the source's: the SOA serial
// is the database's epoch plus its serial, and the target's later epoch
// plus at least the source's serial is past every serial the source gave.
func carrySerial(ctx context.Context, src, dst sqlTx) error {
	var serial int64
	if err := src.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&serial); err != nil {
		return fmt.Errorf("migrate: source: read the serial: %w", err)
	}
	q := `UPDATE meta SET value = MAX(value, ?) WHERE key = 'serial'`
	if dst.pg {
		q = `UPDATE meta SET value = GREATEST(value, ?) WHERE key = 'serial'`
	}
	if _, err := dst.ExecContext(ctx, q, serial); err != nil {
		return fmt.Errorf("migrate: target: carry the serial: %w", err)
	}
	return nil
}

// quoteIdent quotes a table or column name for either backend.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
