package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// redactedParseError is pgx's parse error without the URL it quotes.
func redactedParseError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return "invalid"
}

// pgSchema is the schema of SQLite's tables (schema, eventSchema,
// dynamicSchema, sealSchema) in PostgreSQL's types, with the same keys,
// unique constraints and references. Text keys sort bytewise (COLLATE
// "C"), as SQLite's do, whatever the database's locale, so that both
// backends load in one order.
const pgSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta VALUES ('serial', 0) ON CONFLICT DO NOTHING;
INSERT INTO meta VALUES ('epoch', FLOOR(EXTRACT(EPOCH FROM now()))::BIGINT) ON CONFLICT DO NOTHING; -- floor: a cast would round up half a second
INSERT INTO meta VALUES ('instance', (random() * 9.2e18 - 4.6e18)::BIGINT) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS subnets (name TEXT COLLATE "C" PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (name TEXT COLLATE "C" PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
	name  TEXT COLLATE "C" PRIMARY KEY,
	image TEXT NOT NULL REFERENCES images(name) DEFERRABLE INITIALLY DEFERRED,
	doc   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS systems (
	name     TEXT COLLATE "C" PRIMARY KEY,
	hostname TEXT NOT NULL UNIQUE,
	profile  TEXT NOT NULL REFERENCES profiles(name) DEFERRABLE INITIALLY DEFERRED,
	bmc_password TEXT NOT NULL DEFAULT '',
	doc      TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS macs (
	mac    TEXT COLLATE "C" PRIMARY KEY,
	system TEXT NOT NULL REFERENCES systems(name) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS addresses (
	ip     TEXT COLLATE "C" PRIMARY KEY,
	system TEXT NOT NULL REFERENCES systems(name) ON DELETE CASCADE,
	role   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS builds (
	token  TEXT PRIMARY KEY,
	system TEXT NOT NULL UNIQUE REFERENCES systems(name) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS install_logs (
	system TEXT PRIMARY KEY REFERENCES systems(name) ON DELETE CASCADE,
	at     TEXT NOT NULL,
	size   BIGINT NOT NULL,
	log    BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS templates (name TEXT COLLATE "C" PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (rr TEXT COLLATE "C" PRIMARY KEY);
CREATE TABLE IF NOT EXISTS history (
	id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at    TEXT NOT NULL,
	kind  TEXT NOT NULL,
	name  TEXT NOT NULL,
	prev  TEXT NOT NULL,
	op    TEXT NOT NULL,
	old   TEXT NOT NULL,
	new   TEXT NOT NULL,
	note  TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',
	addr  TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS history_name ON history(name);
CREATE INDEX IF NOT EXISTS history_prev ON history(prev);
CREATE TABLE IF NOT EXISTS events (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at     TEXT NOT NULL,
	system TEXT NOT NULL,
	mac    TEXT NOT NULL,
	ip     TEXT NOT NULL,
	kind   TEXT NOT NULL,
	detail TEXT NOT NULL,
	sid    TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_system ON events(system, id);
CREATE INDEX IF NOT EXISTS events_sid ON events(sid, id);
CREATE TABLE IF NOT EXISTS leases (
	mac     TEXT COLLATE "C" PRIMARY KEY,
	ip      TEXT COLLATE "C" NOT NULL,
	subnet  TEXT NOT NULL,
	expires TEXT NOT NULL,
	state   TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS discovered (
	mac          TEXT COLLATE "C" PRIMARY KEY,
	ip           TEXT NOT NULL,
	subnet       TEXT NOT NULL,
	hostname     TEXT NOT NULL,
	vendor_class TEXT NOT NULL,
	arch         INTEGER NOT NULL,
	first_seen   TEXT NOT NULL,
	last_seen    TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sealing (id INTEGER PRIMARY KEY CHECK (id = 1), key_check TEXT NOT NULL)
`

// pgMigrations[v] brings a PostgreSQL database from version v to v+1. A
// new database is made at version 1 by pgSchema: 0 to 1 has nothing to do.
var pgMigrations = []func(ctx context.Context, tx sqlTx) error{
	0: func(context.Context, sqlTx) error { return nil },
	// 1 to 2: which appliance holds a lease and served an event; an address is
	// leased to one MAC at a time across every appliance (the unique index
	// is what makes ClaimLease safe between appliances). Rows that would
	// break it (left by appliances that did not claim) are dropped, the
	// most recent one of each address kept.
	1: func(ctx context.Context, tx sqlTx) error {
		for _, stmt := range []string{
			`ALTER TABLE leases ADD COLUMN IF NOT EXISTS holder TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE events ADD COLUMN IF NOT EXISTS appliance TEXT NOT NULL DEFAULT ''`,
			`DELETE FROM leases a USING leases b WHERE a.ip = b.ip AND (a.expires, a.mac) < (b.expires, b.mac)`,
			`CREATE UNIQUE INDEX IF NOT EXISTS leases_ip ON leases(ip)`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	},
	// 2 to 3: the serial of the commit on its history rows (see the SQLite
	// migration).
	2: func(ctx context.Context, tx sqlTx) error {
		for _, stmt := range []string{
			`ALTER TABLE history ADD COLUMN IF NOT EXISTS serial BIGINT NOT NULL DEFAULT 0`,
			`CREATE INDEX IF NOT EXISTS history_serial ON history(serial)`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	},
	// 3 to 4: secret settings (see the SQLite migration).
	3: migrateSecretTables,
	// 4 to 5: machines, rules, inspections (see the SQLite migration).
	4: migrateMachineTables,
	// 5 to 6: hooks, outbox, deliveries (see the SQLite migration).
	5: migrateHookTables,
	// 6 to 7: users and tokens (see the SQLite migration).
	6: migrateUserTables,
	// 7 to 8: indexes of the secrets to seal (see the SQLite migration).
	7: migrateSealIndexes,
}

// schemaLock is the advisory lock under which an appliance creates or
// migrates the schema, so that appliances starting at once on one
// database do not race.
const schemaLock = 0x70726f76 // "prov"

// OpenPostgres opens the registry in the PostgreSQL database at url
// (postgres://USER@HOST:PORT/DB?..., or key=value pairs; the password
// from $PGPASSWORD or ~/.pgpass rather than the URL), creating the tables
// it lacks or migrating them, under an advisory lock. A database whose
// schema is newer than SchemaVersion is refused (ErrSchemaTooNew). The
// errors never repeat url, which may hold a password.
func OpenPostgres(ctx context.Context, url string) (*SQLStore, error) {
	return OpenPostgresPassword(ctx, url, "")
}

// OpenPostgresPassword is OpenPostgres with the password given apart from
// url (read from a file); "" leaves it to the URL, $PGPASSWORD or
// ~/.pgpass.
func OpenPostgresPassword(ctx context.Context, url, password string) (*SQLStore, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("registry: postgres: the database URL does not parse (%s)", redactedParseError(err))
	}
	if password != "" {
		cfg.Password = password
	}
	db := stdlib.OpenDB(*cfg.Copy())
	db.SetMaxIdleConns(PostgresIdleConns)
	db.SetMaxOpenConns(PostgresIdleConns) // a burst waits for one of them rather than open more
	st := &SQLStore{db: sqlDB{DB: db, pg: true}, pgcfg: cfg}
	if err := migratePostgres(ctx, st.db); err != nil {
		db.Close()
		return nil, fmt.Errorf("registry: postgres: %w", err)
	}
	return st, nil
}

// PostgresIdleConns is how many connections to the database an appliance
// keeps open between uses (database/sql keeps 2), and so how many writes
// it should have in flight at once (cmd/provision's DHCP pool claims): a
// burst of them does not open and close a connection each. It is also
// the most it opens (and the LISTEN connection of Commits): five
// appliances keep at most 85, under PostgreSQL's default max_connections
// of 100.
const PostgresIdleConns = 16

func migratePostgres(ctx context.Context, db sqlDB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, schemaLock); err != nil {
		return fmt.Errorf("lock the schema: %w", err)
	}
	version := 0
	var exists bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("read the schema version: %w", err)
	}
	if exists {
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&version)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("read the schema version: %w", err)
		}
	}
	if err := checkSchemaVersion(version); err != nil {
		return err
	}
	for _, stmt := range strings.Split(pgSchema, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	for v := version; v < SchemaVersion; v++ {
		if err := pgMigrations[v](ctx, tx); err != nil {
			return fmt.Errorf("migrate the schema from version %d to %d: %w", v, v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta VALUES ('schema', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, SchemaVersion); err != nil {
		return err
	}
	return tx.Commit()
}

// commitChannel is the channel every commit is notified on, with its
// serial as the payload.
const commitChannel = "provision_registry"

// listenerName is the application_name of the LISTEN connections, as
// pg_stat_activity shows them.
const listenerName = "provision-listener"

// Commits implements Notifier: a connection of its own LISTENs on
// commitChannel, and after each (re)connection the current serial is
// sent; a lost connection is made again, 100 ms to 5 s apart. On SQLite
// the channel is closed at once: one appliance owns the file.
func (st *SQLStore) Commits(ctx context.Context) <-chan uint64 {
	out := make(chan uint64, 1)
	if st.pgcfg == nil {
		close(out)
		return out
	}
	go st.listen(ctx, out)
	return out
}

func (st *SQLStore) listen(ctx context.Context, out chan uint64) {
	defer close(out)
	send := func(s uint64) { // the latest serial, never blocking on a slow reader
		select {
		case old := <-out:
			s = max(s, old)
		default:
		}
		out <- s
	}
	backoff := 100 * time.Millisecond
	lost := time.Time{} // when the connection was lost; zero while it is up
	for ctx.Err() == nil {
		up, err := st.listenOnce(ctx, send, func() {
			if !lost.IsZero() && st.log != nil {
				st.log.Info("registry: following the database's changes again, catching up", "after", time.Since(lost).Round(time.Millisecond))
			}
			lost = time.Time{}
		})
		if ctx.Err() != nil {
			return
		}
		if up { // it was up: start the backoff again
			backoff = 100 * time.Millisecond
		}
		if lost.IsZero() {
			lost = time.Now()
			if st.log != nil {
				st.log.Warn("registry: lost the database's change notifications: serving the last Snapshot, reconnecting", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce connects, listens and sends serials until the connection
// fails or ctx ends; it reports whether it got as far as listening (and
// then called listening), and why it ended.
func (st *SQLStore) listenOnce(ctx context.Context, send func(uint64), listening func()) (bool, error) {
	cfg := st.pgcfg.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+commitChannel); err != nil {
		return false, err
	}
	var serial int64
	if err := conn.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&serial); err != nil {
		return true, err
	}
	listening()
	send(uint64(serial))
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		if s, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
			send(s)
		}
	}
}
