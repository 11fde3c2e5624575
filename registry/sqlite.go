package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/provision/provision/internal/seal"
)

// SQLStore is the Store on a SQL database: the embedded one, one SQLite
// file in WAL mode with synchronous=FULL, so a commit that returned is on
// disk and survives a crash of the process or the machine (OpenSQLite);
// or a PostgreSQL database that several appliances share (OpenPostgres).
// Both have the same tables and the same constraints, and run the same
// queries.
type SQLStore struct {
	db    sqlDB
	pgcfg *pgx.ConnConfig // PostgreSQL: for the LISTEN connection of Commits
	key   *seal.Key       // seals BMC passwords and build tokens; nil: plaintext (tests)
	log   *slog.Logger    // where Commits reports a lost and a regained connection; nil: nowhere
	// discoveredCap bounds the discovered table (SetDiscoveredCap); 0: DefaultDiscoveredCap.
	discoveredCap discoveredLimit
	// machineCap bounds the discovered machines of the machines table
	// (SetMachineCap); 0: DefaultMachineCap.
	machineCap machineLimit
}

// SetLogger makes Commits report to log when it loses the database and
// when it follows it again.
func (st *SQLStore) SetLogger(log *slog.Logger) { st.log = log }

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('serial', 0);
-- The database's own: its creation time (the SOA serial counts from it)
-- and a random number (data.cdb's ETag carries it), so that a new
-- database never repeats an old one's serials or ETags.
INSERT OR IGNORE INTO meta VALUES ('epoch', CAST(strftime('%s', 'now') AS INTEGER));
INSERT OR IGNORE INTO meta VALUES ('instance', random());
CREATE TABLE IF NOT EXISTS subnets (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
	name  TEXT PRIMARY KEY,
	image TEXT NOT NULL REFERENCES images(name) DEFERRABLE INITIALLY DEFERRED,
	doc   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS systems (
	name     TEXT PRIMARY KEY,
	hostname TEXT NOT NULL UNIQUE,
	profile  TEXT NOT NULL REFERENCES profiles(name) DEFERRABLE INITIALLY DEFERRED,
	bmc_password TEXT NOT NULL DEFAULT '',
	doc      TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS macs (
	mac    TEXT PRIMARY KEY,
	system TEXT NOT NULL REFERENCES systems(name) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS addresses (
	ip     TEXT PRIMARY KEY,  -- a system's IP or a BMC address: never both
	system TEXT NOT NULL REFERENCES systems(name) ON DELETE CASCADE,
	role   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS builds (
	token  TEXT PRIMARY KEY,  -- a build under way: its installer's token
	system TEXT NOT NULL UNIQUE REFERENCES systems(name) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS install_logs (
	system TEXT PRIMARY KEY REFERENCES systems(name) ON DELETE CASCADE,
	at     TEXT NOT NULL,
	size   INTEGER NOT NULL,
	log    BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS templates (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (rr TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS history (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	at   TEXT NOT NULL,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	prev TEXT NOT NULL,
	op   TEXT NOT NULL,
	old  TEXT NOT NULL,
	new  TEXT NOT NULL,
	note TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',  -- who asked (Change.By)
	addr  TEXT NOT NULL DEFAULT ''); -- from where (Change.From)
CREATE INDEX IF NOT EXISTS history_name ON history(name);
CREATE INDEX IF NOT EXISTS history_prev ON history(prev);
`

// OpenSQLite opens (creating if needed, mode 0600) the database at path.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is a URI path: escaped, so that "?", "#" or "%" in a
	// directory name stay part of it.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", path, err)
	}
	if err := migrateSQLite(ctx, sqlDB{DB: db}); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: %s: %w", path, err)
	}
	return &SQLStore{db: sqlDB{DB: db}}, nil
}

// SchemaVersion is the version of the registry's schema this build reads
// and writes, kept in the database (meta 'schema'). Opening a database of
// an older version migrates it; a newer one, written by a later
// provision, is refused (ErrSchemaTooNew) before anything is changed.
const SchemaVersion = 8

// ErrSchemaTooNew: the database was written by a newer provision.
var ErrSchemaTooNew = errors.New("the database was written by a newer provision")

// checkSchemaVersion refuses a database whose schema is newer than this
// build knows (both backends).
func checkSchemaVersion(version int) error {
	if version > SchemaVersion {
		return fmt.Errorf("%w: its schema is version %d, this provision knows %d at most: run a provision at least as new as the one that wrote it", ErrSchemaTooNew, version, SchemaVersion)
	}
	return nil
}

// The CREATE statements (schema, eventSchema, dynamicSchema, pgSchema)
// stay as they were at version 1: a new database is made at version 1 and
// brought up to date by the same migrations as an old one, so that both
// end with the same tables.

// sqliteMigrations[v] brings a database from version v to v+1, inside
// one transaction with the version's update. Version 0 is every database
// made before versions were kept: the steps of 1 are idempotent, since
// such a database may have had some of them already.
var sqliteMigrations = []func(ctx context.Context, tx sqlTx) error{
	0: func(ctx context.Context, tx sqlTx) error {
		if err := addColumns(ctx, tx, "history", "actor", "addr"); err != nil {
			return fmt.Errorf("history: %w", err)
		}
		if err := migrateEvents(ctx, tx); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		return nil
	},
	1: func(ctx context.Context, tx sqlTx) error {
		if err := addColumns(ctx, tx, "leases", "holder"); err != nil {
			return fmt.Errorf("leases: %w", err)
		}
		// One MAC per address, as on PostgreSQL: of the rows an older
		// provision left for one address, the most recent stays.
		if _, err := tx.ExecContext(ctx, `DELETE FROM leases WHERE EXISTS (SELECT 1 FROM leases b WHERE b.ip = leases.ip
			AND (b.expires > leases.expires OR (b.expires = leases.expires AND b.mac > leases.mac)))`); err != nil {
			return fmt.Errorf("leases: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS leases_ip ON leases(ip)`); err != nil {
			return fmt.Errorf("leases: %w", err)
		}
		if err := addColumns(ctx, tx, "events", "appliance"); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		return nil
	},
	// 2 to 3: every history row of a commit carries the commit's serial,
	// so that another appliance can read what a commit changed instead of
	// the whole registry (changesSince). Older rows keep 0.
	2: func(ctx context.Context, tx sqlTx) error {
		var has int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('history') WHERE name = 'serial'`).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE history ADD COLUMN serial INTEGER NOT NULL DEFAULT 0`); err != nil {
				return fmt.Errorf("history: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS history_serial ON history(serial)`)
		return err
	},
	// 3 to 4: secret settings, sealed, apart from the documents
	// (sqlite_secrets.go).
	3: migrateSecretTables,
	// 4 to 5: machines (discovered and registered machines' inventories),
	// rules, inspections (machines_store.go).
	4: migrateMachineTables,
	// 5 to 6: hooks, their outbox and deliveries (hooks_store.go).
	5: migrateHookTables,
	// 6 to 7: users and their API tokens (users_store.go).
	6: migrateUserTables,
	// 7 to 8: indexes of the secrets a start-up must seal (sqlite_seal.go).
	7: migrateSealIndexes,
}

// migrateSQLite creates the tables a new database lacks and runs the
// migrations from the database's version to SchemaVersion.
func migrateSQLite(ctx context.Context, db sqlDB) error {
	var version int
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&version)
	switch {
	case err == nil, errors.Is(err, sql.ErrNoRows):
	case strings.Contains(err.Error(), "no such table"): // a new database
	default:
		return fmt.Errorf("read the schema version: %w", err)
	}
	if err := checkSchemaVersion(version); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, schema+eventSchema+dynamicSchema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	for v := version; v < SchemaVersion; v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		err = sqliteMigrations[v](ctx, tx)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO meta VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, v+1)
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("migrate the schema from version %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

// execQuerier is what migrations use of a sqlTx (or *sql.DB).
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Close closes the database.
func (st *SQLStore) Close() error { return st.db.Close() }

// Commit implements Store.
func (st *SQLStore) Commit(ctx context.Context, base uint64, ops []Op) (uint64, error) {
	c, err := st.begin(ctx, base)
	if err != nil {
		return 0, err
	}
	defer c.rollback() // after a commit, nothing
	if err := c.write(ctx, ops); err != nil {
		return 0, err
	}
	return c.finish(ctx, ops)
}

// sqlCommit is a commit under way: its transaction, the serial it
// writes, and the rows of system adds gathered and not written yet.
type sqlCommit struct {
	st     *SQLStore
	tx     sqlTx
	serial uint64
	b      *batch
}

// begin starts a commit of a change validated at base; errStale when the
// store's serial is no longer base.
func (st *SQLStore) begin(ctx context.Context, base uint64) (*sqlCommit, error) {
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("registry: begin: %w", err)
	}
	// The serial first: the history rows carry it, and it is bumped only
	// from base, the serial the change was validated at. On PostgreSQL the
	// row lock it takes orders the commits of all appliances: a commit
	// that waited for another's finds the serial moved and writes nothing
	// (errStale); on SQLite the write lock (BEGIN IMMEDIATE) does the
	// same for processes sharing the file.
	var serial uint64
	err = tx.QueryRowContext(ctx, `UPDATE meta SET value = value + 1 WHERE key = 'serial' AND value = ? RETURNING value`, int64(base)).Scan(&serial)
	if err != nil {
		tx.Rollback()
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errStale
		}
		return nil, fmt.Errorf("registry: bump serial: %w", err)
	}
	return &sqlCommit{st: st, tx: tx, serial: serial, b: newBatch(st, serial)}, nil
}

// write writes ops and their audit records; the rows of those that only
// add a system may wait in the batch (flush, finish).
func (c *sqlCommit) write(ctx context.Context, ops []Op) error {
	for _, op := range ops {
		if batched, err := c.b.add(op); batched || err != nil {
			if err != nil {
				return fmt.Errorf("registry: %w", err)
			}
			continue
		}
		if err := c.b.flush(ctx, c.tx); err != nil {
			return storeError(err)
		}
		if err := applyOp(ctx, c.tx, op, c.st.seal, c.serial); err != nil {
			return storeError(err)
		}
		if err := c.st.bindBMC(ctx, c.tx, op); err != nil {
			return err
		}
		if err := c.st.bindSecrets(ctx, c.tx, op); err != nil {
			return storeError(err)
		}
	}
	return nil
}

// flush writes the rows waiting in the batch.
func (c *sqlCommit) flush(ctx context.Context) error {
	if err := c.b.flush(ctx, c.tx); err != nil {
		return storeError(err)
	}
	return nil
}

// finish writes what waits in the batch and the hooks' events of ops
// (all the commit's), and commits.
func (c *sqlCommit) finish(ctx context.Context, ops []Op) (uint64, error) {
	if err := c.flush(ctx); err != nil {
		return 0, err
	}
	if err := writeOutbox(ctx, c.tx, ops); err != nil { // the hooks' events, with the change
		return 0, fmt.Errorf("registry: %w", err)
	}
	if c.st.db.pg { // delivered to the listeners when the transaction commits
		if _, err := c.tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, commitChannel, strconv.FormatUint(c.serial, 10)); err != nil {
			return 0, fmt.Errorf("registry: notify: %w", err)
		}
	}
	if err := c.tx.Commit(); err != nil {
		return 0, storeError(err)
	}
	return c.serial, nil
}

// rollback ends the commit, writing nothing if it did not commit.
func (c *sqlCommit) rollback() {
	c.b.close()
	c.tx.Rollback()
}

// storeError turns a constraint violation into ErrConflict: the Registry
// checks first, so this is the backstop against writers it does not see.
func storeError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return &Error{ErrConflict, "registry: refused by the database: " + se.Error()}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") { // integrity constraint violation
		return &Error{ErrConflict, "registry: refused by the database: " + pe.Error()}
	}
	return fmt.Errorf("registry: %w", err)
}

// isUniqueViolation reports a unique constraint's refusal (either backend).
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

const eventSchema = `
CREATE TABLE IF NOT EXISTS events (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     TEXT NOT NULL,
	system TEXT NOT NULL,
	mac    TEXT NOT NULL,
	ip     TEXT NOT NULL,
	kind   TEXT NOT NULL,
	detail TEXT NOT NULL,
	sid    TEXT NOT NULL DEFAULT '');  -- the system's identity (System.ID)
CREATE INDEX IF NOT EXISTS events_system ON events(system, id);
`

// addColumns adds to table, as empty text, the columns a database made
// before them lacks.
func addColumns(ctx context.Context, db execQuerier, table string, cols ...string) error {
	for _, c := range cols {
		var has int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, c).Scan(&has); err != nil {
			return err
		}
		if has == 0 {
			if _, err := db.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+c+` TEXT NOT NULL DEFAULT ''`); err != nil {
				return err
			}
		}
	}
	return nil
}

// migrateEvents gives events recorded before systems had an identity
// (no sid column, or rows with an empty one) the identity their system
// got (LegacySystemID), and indexes them by it.
func migrateEvents(ctx context.Context, db execQuerier) error {
	var has int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'sid'`).Scan(&has); err != nil {
		return err
	}
	if has == 0 {
		if _, err := db.ExecContext(ctx, `ALTER TABLE events ADD COLUMN sid TEXT NOT NULL DEFAULT ''`); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS events_sid ON events(sid, id)`); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT system FROM events WHERE sid = ''`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, `UPDATE events SET sid = ? WHERE sid = '' AND system = ?`, LegacySystemID(n), n); err != nil {
			return err
		}
	}
	return nil
}

// AppendEvents implements EventStore. One transaction writes the batch:
// of each system's events in it only the last keep are inserted (the
// trim below would delete the others in the same transaction), through
// one prepared statement, and each system's older events are then
// trimmed to keep.
func (st *SQLStore) AppendEvents(ctx context.Context, evs []Event, keep int) error {
	idOf := func(e *Event) string {
		if e.SystemID != "" {
			return e.SystemID
		}
		return e.System
	}
	left := make(map[string]int) // of each identity's events, how many are still to come
	for i := range evs {
		left[idOf(&evs[i])]++
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO events (at, system, mac, ip, kind, detail, sid, appliance) VALUES (?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i := range evs {
		e := &evs[i]
		id := idOf(e)
		n := left[id]
		left[id] = n - 1
		if n > keep {
			continue // at least keep newer events of id follow in this batch
		}
		if _, err := ins.ExecContext(ctx, e.At.UTC().Format(time.RFC3339Nano), e.System, e.MAC, e.IP, e.Kind, e.Detail, id, e.Appliance); err != nil {
			return err
		}
	}
	trim, err := tx.PrepareContext(ctx, `DELETE FROM events WHERE sid = ? AND id <= (
		SELECT id FROM events WHERE sid = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`)
	if err != nil {
		return err
	}
	defer trim.Close()
	for id := range left {
		if _, err := trim.ExecContext(ctx, id, id, keep); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Events implements EventStore.
func (st *SQLStore) Events(ctx context.Context, id string, limit int) ([]Event, error) {
	q, args := `SELECT at, system, mac, ip, kind, detail, appliance FROM events WHERE sid = ? ORDER BY id DESC LIMIT ?`, []any{id, limit}
	if id == "" {
		q, args = `SELECT at, system, mac, ip, kind, detail, appliance FROM events ORDER BY id DESC LIMIT ?`, []any{limit}
	}
	rows, err := st.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&at, &e.System, &e.MAC, &e.IP, &e.Kind, &e.Detail, &e.Appliance); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, e)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, rows.Err()
}
