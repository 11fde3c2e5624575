package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/pgtest"
	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/kickstart"
)

// migrateSource is a SQLite registry as an appliance leaves it, written
// through the registry's own API: subnets, an image, a template,
// profiles, systems with MACs, IPs, a sealed BMC password, a build under
// way (sealed token) and a failed one (install log), a rename and a
// removal in history, settings, records, events, leases, discovered
// machines and the key check of its secret key.
type migrateSource struct {
	st  *SQLStore
	r   *Registry
	key *seal.Key
}

func newMigrateSource(t *testing.T) *migrateSource {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := OpenSQLite(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.Create(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, func() error { return st.UseKey(ctx, key) })
	r, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	src := &migrateSource{st: st, r: r, key: key}
	src.fill(t)
	return src
}

func (m *migrateSource) fill(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	r, st := m.r, m.st
	do := func(f func() error) { t.Helper(); must(t, f) }
	do(func() error {
		_, err := r.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250"})
		return err
	})
	do(func() error { _, err := r.AddSubnet(ctx, Subnet{Name: "mgmt", CIDR: "10.0.1.0/24"}); return err })
	do(func() error {
		_, err := r.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
		return err
	})
	do(func() error {
		_, err := r.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript,
			Text: "#!/bin/sh\n# {{.System.Name}} — é\ndisk={{.Settings.disk}}\nwget {{.URLs.Done}}\n"})
		return err
	})
	do(func() error { _, err := r.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); return err })
	do(func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "inst", Image: "centos", Kickstart: "inst", InstallTimeout: "20m", Settings: map[string]string{"disk": "vda"}})
		return err
	})
	web1 := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web1.MACs = append(web1.MACs, "aa:bb:cc:dd:ee:11")
	web1.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "s3cret"}
	web1.Settings = map[string]string{"role": "web"}
	do(func() error { _, err := r.AddSystem(ctx, web1); return err })
	do(func() error {
		_, err := r.AddSystem(ctx, instSys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12"))
		return err
	})
	do(func() error {
		_, err := r.AddSystem(ctx, instSys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.13"))
		return err
	})
	do(func() error {
		s, _ := r.Snapshot().SystemByName("web003")
		_, err := r.BuildFailed(ctx, string(s.BuildToken), "reported", &InstallLog{Size: 70000, Log: []byte("anaconda: no disk\n\x00\xff\xfe")})
		return err
	})
	do(func() error { _, err := r.AddSystem(ctx, sys("web004", "aa:bb:cc:dd:ee:04", "10.0.0.14")); return err })
	do(func() error {
		s := sys("web104", "aa:bb:cc:dd:ee:04", "10.0.0.14")
		_, err := r.EditSystem(ctx, "web004", s)
		return err
	})
	do(func() error { _, err := r.AddSystem(ctx, sys("web005", "aa:bb:cc:dd:ee:05", "10.0.0.15")); return err })
	do(func() error { return r.RemoveSystem(ctx, "web005") })
	do(func() error { _, err := r.SetSetting(ctx, "lvs.vrid", "100"); return err })
	do(func() error { _, err := r.SetSetting(ctx, "ntp", "10.0.0.2"); return err })
	do(func() error {
		_, err := r.AddRecords(ctx, []string{"mail.dsas. 3600 IN A 10.0.0.25", "www.dsas. 300 IN CNAME web001.dsas."}, false)
		return err
	})
	do(func() error { return r.Note(ctx, "system", "web001", "power", "cycle") })
	// Discovery: a rule, a machine with an enrolled BMC (its password
	// sealed), an accepted one and its system's inspection.
	do(func() error {
		return r.AddRule(ctx, Rule{Name: "tor-a12", Match: `lldp.switch == "tor-a12"`, Hostname: "a12-{{ .LLDP.PortNumber }}", Profile: "web"})
	})
	do(func() error {
		_, err := r.ReportInventory(ctx, machineInv(1, "S1", 7), "lan", "10.0.0.203")
		return err
	})
	do(func() error {
		return r.SetMachineBMC(ctx, "52:54:00:00:00:01", MachineBMC{Address: "10.0.1.31", User: "provision", Enrolled: true}, "enrolled-pw")
	})
	do(func() error {
		_, err := r.ReportInventory(ctx, machineInv(2, "S2", 8), "lan", "10.0.0.204")
		return err
	})
	do(func() error { _, err := r.AcceptMachine(ctx, "S2", Accept{Name: "a12-8", Profile: "web"}); return err })
	do(func() error { _, err := r.StartInspect(ctx, "a12-8"); return err })

	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	id1, _ := r.Snapshot().SystemID("web001")
	id2, _ := r.Snapshot().SystemID("web002")
	var evs []Event
	for i := range 6 {
		evs = append(evs, Event{At: at.Add(time.Duration(i) * time.Second), System: "web001", SystemID: id1, MAC: "aa:bb:cc:dd:ee:01",
			IP: "10.0.0.11", Kind: "tftp", Detail: fmt.Sprintf("file %d", i), Appliance: "a1"})
	}
	evs = append(evs, Event{At: at, System: "web002", SystemID: id2, MAC: "aa:bb:cc:dd:ee:02", Kind: "dhcp"})
	do(func() error { return st.AppendEvents(ctx, evs[:3], 4) })
	do(func() error { return st.AppendEvents(ctx, evs[3:], 4) }) // trims web001's first two
	// The newest event gone (as a trim of its system leaves it): SQLite's
	// counter stays past the ids left.
	do(func() error {
		_, err := st.db.ExecContext(ctx, `DELETE FROM events WHERE id = (SELECT MAX(id) FROM events)`)
		return err
	})
	exp := time.Date(2026, 3, 1, 11, 0, 0, 5, time.UTC)
	do(func() error {
		return st.SaveDynamic(ctx, []Lease{{MAC: "aa:00:00:00:00:01", IP: "10.0.0.201", Subnet: "lan", Expires: exp, State: "bound", Holder: "a1"}},
			[]Discovered{{MAC: "aa:00:00:00:00:01", IP: "10.0.0.201", Subnet: "lan", Hostname: "new1", VendorClass: "PXEClient:Arch:00007", Arch: 7,
				FirstSeen: at, LastSeen: exp}})
	})
	do(func() error {
		return st.ClaimLease(ctx, Lease{MAC: "aa:00:00:00:00:02", IP: "10.0.0.202", Subnet: "lan", Expires: exp, State: "declined", Holder: "a2"}, at)
	})
	// An install log kept as SQLite text rather than a blob (SQLite keeps
	// what it is given): PostgreSQL's BYTEA takes it as its bytes.
	do(func() error {
		_, err := st.db.ExecContext(ctx, `INSERT INTO install_logs VALUES ('web002', '2026-03-01T10:00:00Z', 13, 'C:\boot\x41\')`)
		return err
	})
}

// migrateTarget opens a fresh target: a PostgreSQL database, or a SQLite
// file.
func migrateTarget(t *testing.T, backend string) *SQLStore {
	t.Helper()
	ctx := context.Background()
	var st *SQLStore
	var err error
	if backend == "postgres" {
		st, err = OpenPostgres(ctx, pgtest.DB(t))
	} else {
		st, err = OpenSQLite(ctx, filepath.Join(t.TempDir(), "target.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countRows(t *testing.T, st *SQLStore, table string) int64 {
	t.Helper()
	var n int64
	if err := st.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// allCounts is the row count of every table Migrate copies.
func allCounts(t *testing.T, st *SQLStore) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, table := range migrateTables {
		if ok, _ := hasTableDB(st, table); ok {
			m[table] = countRows(t, st, table)
		}
	}
	return m
}

func hasTableDB(st *SQLStore, table string) (bool, error) {
	tx, err := st.db.BeginTx(context.Background(), nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	return hasTable(context.Background(), tx, table)
}

func maxID(t *testing.T, st *SQLStore, table string) int64 {
	t.Helper()
	var n int64
	if err := st.db.QueryRowContext(context.Background(), `SELECT COALESCE(MAX(id), 0) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func sqliteSeq(t *testing.T, st *SQLStore, table string) int64 {
	t.Helper()
	var n int64
	if err := st.db.QueryRowContext(context.Background(), `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrateSQLiteToPostgres migrates a SQLite registry into a new
// PostgreSQL database: an appliance on it (with the same secret key)
// exports the same bytes, with secrets, and has the same history, events,
// leases, discovered machines and install logs; new events and commits
// take ids past the old ones; every table PostgreSQL has is copied or
// skipped on purpose; and a second migration onto it is refused.
func TestMigrateSQLiteToPostgres(t *testing.T) {
	src := newMigrateSource(t)
	dst := migrateTarget(t, "postgres")
	checkMigrate(t, src, dst)
	tables := pgTables(t, dst)
	for _, table := range tables {
		if !slices.Contains(migrateTables, table) && migrateSkipped[table] == "" {
			t.Errorf("PostgreSQL table %s is neither in migrateTables nor in migrateSkipped", table)
		}
	}
	for _, table := range migrateTables {
		if !slices.Contains(tables, table) {
			t.Errorf("migrateTables has %s, which PostgreSQL's schema lacks", table)
		}
	}
	_, err := Migrate(context.Background(), src.st, dst)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "migrate: target table subnets already holds 2 rows") {
		t.Errorf("a second migration: %v, want the refusal naming subnets", err)
	}
}

// The same, SQLite to SQLite: the copy and its conversions do not depend
// on PostgreSQL (and this runs without it).
func TestMigrateSQLiteToSQLite(t *testing.T) {
	checkMigrate(t, newMigrateSource(t), migrateTarget(t, "sqlite"))
}

func pgTables(t *testing.T, st *SQLStore) []string {
	t.Helper()
	rows, err := st.db.QueryContext(context.Background(), `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

// checkMigrate migrates src into the empty dst and compares them.
func checkMigrate(t *testing.T, src *migrateSource, dst *SQLStore) {
	t.Helper()
	ctx := context.Background()
	counts, err := Migrate(ctx, src.st, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := allCounts(t, src.st)
	for _, c := range counts {
		if c.Rows != want[c.Table] {
			t.Errorf("Migrate says %d rows of %s, the source has %d", c.Rows, c.Table, want[c.Table])
		}
		if got := countRows(t, dst, c.Table); got != c.Rows {
			t.Errorf("the target has %d rows of %s, Migrate says %d", got, c.Table, c.Rows)
		}
	}
	if len(counts) != len(migrateTables) || want["sealing"] != 1 || want["install_logs"] != 2 || want["events"] != 4 {
		t.Fatalf("counts %+v of a source with %v: the source lacks what the test means to copy", counts, want)
	}

	other, _ := seal.Create(filepath.Join(t.TempDir(), "other.key"))
	if err := dst.UseKey(ctx, other); !errors.Is(err, seal.ErrWrongKey) {
		t.Errorf("the target with another key: %v, want ErrWrongKey", err)
	}
	must(t, func() error { return dst.UseKey(ctx, src.key) })
	r2, err := Open(ctx, dst, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	a, errA := src.r.Snapshot().Export(true)
	b, errB := r2.Snapshot().Export(true)
	if errA != nil || errB != nil || string(a) != string(b) {
		t.Errorf("Export(true) differs (%v, %v):\n%s", errA, errB, cmp.Diff(string(a), string(b)))
	}
	if !strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "build_token") {
		t.Errorf("the target's export lacks the BMC password or the build token:\n%s", b)
	}
	if s1, s2 := src.r.Snapshot().Serial, r2.Snapshot().Serial; s2 != s1 {
		t.Errorf("target serial %d, source's %d", s2, s1)
	}
	compare := func(what string, f func(st *SQLStore) (any, error)) {
		t.Helper()
		x, err1 := f(src.st)
		y, err2 := f(dst)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", what, err1, err2)
		}
		if d := cmp.Diff(x, y); d != "" {
			t.Errorf("%s differ (-source +target):\n%s", what, d)
		}
	}
	id1, _ := src.r.Snapshot().SystemID("web001")
	compare("history", func(st *SQLStore) (any, error) { return st.History(ctx, "", 1000) })
	compare("history of web104", func(st *SQLStore) (any, error) { return st.History(ctx, "web104", 1000) })
	compare("events", func(st *SQLStore) (any, error) { return st.Events(ctx, "", 1000) })
	compare("events of web001", func(st *SQLStore) (any, error) { return st.Events(ctx, id1, 1000) })
	compare("leases", func(st *SQLStore) (any, error) { return st.Leases(ctx) })
	compare("discovered", func(st *SQLStore) (any, error) { return st.Discovered(ctx) })
	compare("machines", func(st *SQLStore) (any, error) { return st.machinePage(ctx, "", "", 100) })
	compare("an enrolled password", func(st *SQLStore) (any, error) { return st.machineBMCPassword(ctx, "52:54:00:00:00:01") })
	if want["machines"] != 2 || want["rules"] != 1 || want["inspections"] != 1 {
		t.Errorf("the source lacks machines, rules or inspections: %v", want)
	}
	for _, s := range []string{"web002", "web003"} {
		compare("install log of "+s, func(st *SQLStore) (any, error) { return st.InstallLog(ctx, s) })
	}
	if l, _ := dst.InstallLog(ctx, "web002"); l == nil || string(l.Log) != `C:\boot\x41\` {
		t.Errorf("web002's install log, kept as text: %+v", l)
	}

	// New rows take ids past the highest SQLite ever gave.
	evSeq, histSeq := sqliteSeq(t, src.st, "events"), sqliteSeq(t, src.st, "history")
	if evSeq <= maxID(t, src.st, "events") {
		t.Fatalf("the source's event counter %d is not past its rows: the test lost its gap", evSeq)
	}
	must(t, func() error {
		return dst.AppendEvents(ctx, []Event{{At: time.Now(), System: "web001", SystemID: id1, Kind: "script"}}, 10)
	})
	if got := maxID(t, dst, "events"); got != evSeq+1 {
		t.Errorf("a new event on the target has id %d, want %d", got, evSeq+1)
	}
	if evs, _ := dst.Events(ctx, id1, 10); len(evs) == 0 || evs[len(evs)-1].Kind != "script" {
		t.Errorf("events of web001 after a new one: %+v", evs)
	}
	must(t, func() error { _, err := r2.SetSetting(ctx, "after", "migrate"); return err })
	if h, _ := r2.History(ctx, "", 1); len(h) != 1 || h[0].ID != histSeq+1 || h[0].Name != "after" {
		t.Errorf("a new commit's history on the target: %+v, want id %d", h, histSeq+1)
	}
}

// A target that holds rows, a failure halfway and a schema of another
// version are refused, and leave the target as it was.
func TestMigrateRefusals(t *testing.T) {
	ctx := context.Background()
	src := newMigrateSource(t)
	empty := func(t *testing.T, dst *SQLStore, except map[string]int64) {
		t.Helper()
		for table, n := range allCounts(t, dst) {
			if n != except[table] {
				t.Errorf("target table %s holds %d rows, want %d", table, n, except[table])
			}
		}
	}
	t.Run("target not empty", func(t *testing.T) {
		dst := migrateTarget(t, "postgres")
		r, err := Open(ctx, dst, "dsas")
		if err != nil {
			t.Fatal(err)
		}
		must(t, func() error { _, err := r.SetSetting(ctx, "x", "1"); return err })
		_, err = Migrate(ctx, src.st, dst)
		if !errors.Is(err, ErrConflict) || !strings.HasPrefix(err.Error(), "migrate: target table settings already holds 1 row ") {
			t.Fatalf("Migrate onto a target with a setting: %v", err)
		}
		empty(t, dst, map[string]int64{"settings": 1, "history": 1})
	})
	t.Run("failure midway", func(t *testing.T) {
		dst := migrateTarget(t, "postgres")
		var done []string
		migrateHook = func(table string) error {
			done = append(done, table)
			if table == "history" {
				return errors.New("injected")
			}
			return nil
		}
		t.Cleanup(func() { migrateHook = nil })
		_, err := Migrate(ctx, src.st, dst)
		if err == nil || err.Error() != "migrate: after table history: injected" {
			t.Fatalf("Migrate with a failure after history: %v", err)
		}
		if !slices.Contains(done, "systems") {
			t.Fatalf("the hook ran after %v only", done)
		}
		empty(t, dst, nil)
		var serial int64
		dst.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'serial'`).Scan(&serial)
		if serial != 0 {
			t.Errorf("the target's serial is %d after a failed migration", serial)
		}
		migrateHook = nil
		if _, err := Migrate(ctx, src.st, dst); err != nil {
			t.Fatalf("Migrate again, without the failure: %v", err)
		}
		if countRows(t, dst, "systems") != 5 { // web001-003, web104, a12-8
			t.Error("the second migration did not copy the systems")
		}
	})
	for _, side := range []string{"source", "target"} {
		t.Run(side+" schema version", func(t *testing.T) {
			dst := migrateTarget(t, "postgres")
			st := dst
			if side == "source" {
				st = newMigrateSource(t).st
			}
			must(t, func() error {
				_, err := st.db.ExecContext(ctx, `UPDATE meta SET value = 1 WHERE key = 'schema'`)
				return err
			})
			from := src.st
			if side == "source" {
				from = st
			}
			_, err := Migrate(ctx, from, dst)
			want := fmt.Sprintf("migrate: the %s database's schema is version 1, this provision's is %d", side, SchemaVersion)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Migrate: %v, want %q", err, want)
			}
			empty(t, dst, nil)
		})
	}
}

// Every table of a SQLite registry (as serve leaves it: with its key
// check) is copied or skipped on purpose, so that a new table cannot be
// forgotten.
func TestMigrateCoversEveryTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := OpenSQLite(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, _ := seal.Create(filepath.Join(dir, "secret.key"))
	must(t, func() error { return st.UseKey(ctx, key) })
	rows, err := st.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	for _, table := range tables {
		if !slices.Contains(migrateTables, table) && migrateSkipped[table] == "" {
			t.Errorf("SQLite table %s is neither in migrateTables nor in migrateSkipped: add it to one", table)
		}
	}
	for _, table := range migrateTables {
		if !slices.Contains(tables, table) {
			t.Errorf("migrateTables has %s, which SQLite's schema lacks", table)
		}
	}
}

// migrateValue converts what SQLite may hold to the target column's kind.
func TestMigrateValue(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 5, time.UTC)
	for _, c := range []struct {
		in   any
		typ  string // the target's declared type
		want any
		err  string
	}{
		{nil, "text", nil, ""},
		{"abc", "text", "abc", ""},
		{[]byte("abc"), "text", "abc", ""},
		{[]byte{0xff}, "text", nil, "not UTF-8"},
		{int64(7), "text", "7", ""},
		{at, "text", "2026-03-01T10:00:00.000000005Z", ""},
		{"log", "bytea", []byte("log"), ""},
		{[]byte{0, 0xff}, "bytea", []byte{0, 0xff}, ""},
		{int64(5), "bigint", int64(5), ""},
		{" 42", "integer", int64(42), ""},
		{"x", "bigint", nil, `"x" is not an integer`},
		{float64(3), "integer", int64(3), ""},
		{int64(1), "boolean", true, ""},
		{int64(0), "boolean", false, ""},
		{"true", "boolean", true, ""},
		{"2026-03-01T10:00:00.000000005Z", "timestamp with time zone", at, ""},
		{"2026-03-01 10:00:00", "timestamp with time zone", at.Truncate(time.Second), ""},
		{int64(at.Unix()), "timestamp with time zone", at.Truncate(time.Second), ""},
		{"soon", "timestamp with time zone", nil, "not a time"},
		{int64(2), "double precision", float64(2), ""},
		{int64(9), "", int64(9), ""},
	} {
		got, err := migrateValue(c.in, columnKind(c.typ))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%#v to %s: %v, %v; want error %q", c.in, c.typ, got, err, c.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, c.want) {
			t.Errorf("%#v to %s: %#v, %v; want %#v", c.in, c.typ, got, err, c.want)
		}
	}
}
