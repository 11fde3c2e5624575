package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A data directory whose name holds URI characters opens the database
// at that path, not at a truncated one.
func TestOpenSQLiteOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data?x=1#frag %41")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registry.db")
	ctx := context.Background()
	r := reopen(t, path)
	if _, err := r.SetSetting(ctx, "lvs.vrid", "100"); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r = reopen(t, path)
	defer r.Close()
	if v, ok := r.Snapshot().Setting("lvs.vrid"); !ok || v != "100" {
		t.Errorf("after reopening %s: lvs.vrid = %q, %v", path, v, ok)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files beside the data directory: %v", entries)
	}
}

// An import that spells a setting key in upper case sets the stored
// (lower-case) setting, and the database agrees after a restart.
func TestImportUpperCaseSettingKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	r := reopen(t, path)
	if _, err := r.SetSetting(ctx, "lvs.vrid", "50"); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Import(ctx, []byte("settings:\n  LVS.VRID: \"100\"\n  Net.Private: 10.0.0.0/8\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("import: %+v", rep)
	r.Close()
	r = reopen(t, path)
	defer r.Close()
	for k, want := range map[string]string{"lvs.vrid": "100", "net.private": "10.0.0.0/8"} {
		if v, ok := r.Snapshot().Setting(k); !ok || v != want {
			t.Errorf("after restart %s = %q, %v; want %q", k, v, ok, want)
		}
	}
	if n := len(r.Snapshot().Settings()); n != 2 {
		t.Errorf("%d settings after restart, want 2", n)
	}
}

// A write that would give a leased pool address to a second machine is
// refused, naming the MAC that holds it.
func TestLiveLeasesRefuseASecondHolder(t *testing.T) {
	ctx := context.Background()
	r, _, mustDo := seededRegistry(t, "10.0.0.100-10.0.0.200")
	const holder = "02:00:00:00:00:99"
	r.SetLiveLeases(func() []LiveLease {
		return []LiveLease{{IP: netip.MustParseAddr("10.0.0.150"), MAC: holder}, {IP: netip.MustParseAddr("10.0.0.20"), MAC: holder}}
	})
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"pool shrunk under a lease", func() error {
			_, err := r.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24", Pool: "10.0.0.100-10.0.0.120"})
			return err
		}(), "subnet lan: pool 10.0.0.100-10.0.0.120 would leave out 10.0.0.150, leased to mac " + holder},
		{"pool removed under a lease", func() error {
			_, err := r.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24"})
			return err
		}(), "subnet lan: pool none would leave out 10.0.0.150, leased to mac " + holder},
		{"a leased address as a system's IP", func() error {
			_, err := r.AddSystem(ctx, System{Name: "web01", MACs: []string{"52:54:00:00:00:01"}, IP: "10.0.0.20", Profile: "p"})
			return err
		}(), "system web01: ip 10.0.0.20 is leased from the pool to mac " + holder},
		{"a leased address as a BMC's", func() error {
			_, err := r.AddSystem(ctx, System{Name: "web02", MACs: []string{"52:54:00:00:00:02"}, IP: "10.0.0.21", Profile: "p",
				BMC: &BMC{Address: "10.0.0.20", User: "admin"}})
			return err
		}(), "system web02: bmc address 10.0.0.20 is leased from the pool to mac " + holder},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, tc.err, tc.want)
		}
	}
	// The holder itself may become a reservation of its address, and a
	// pool that keeps the lease may change.
	mustDo(r.AddSystem(ctx, System{Name: "web03", MACs: []string{holder}, IP: "10.0.0.20", Profile: "p"}))
	mustDo(r.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24", Pool: "10.0.0.140-10.0.0.200"}))
}

// Names DNS could not serve are refused at the write, naming the other
// owner, instead of being dropped from the zone.
func TestNamesDNSCannotServe(t *testing.T) {
	ctx := context.Background()
	r, _, must := seededRegistry(t, "")
	sys := func(name, hostname string, n byte) System {
		return System{Name: name, Hostname: hostname, MACs: []string{fmt.Sprintf("52:54:00:00:01:%02x", n)}, IP: fmt.Sprintf("10.0.0.%d", n), Profile: "p"}
	}
	must(r.AddSystem(ctx, sys("web01", "www.example.org", 1)))
	must(r.AddSystem(ctx, sys("mailhost", "mail.dsas", 2)))
	must(r.AddRecords(ctx, []string{"db.dsas. 3600 IN A 10.0.0.99"}, false))
	for _, tc := range []struct {
		sys  System
		want string
	}{
		{sys("ns", "", 3), "system ns: ns.dsas is the appliance's name server"},
		{sys("web02", "web01.dsas", 4), "system web02: web01.dsas is the name of system web01"},
		{sys("mail", "", 5), "hostname mail.dsas is already used by system mailhost"},
		{sys("mail", "m.example.org", 7), "system mail: mail.dsas is the hostname of system mailhost"},
		{sys("db", "", 6), `system db: db.dsas is the name of the static record "db.dsas.\t3600\tIN\tA\t10.0.0.99"`},
	} {
		_, err := r.AddSystem(ctx, tc.sys)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("add %s: %v, want %q", tc.sys.Name, err, tc.want)
		}
	}
	if _, err := r.SetSetting(ctx, "big", strings.Repeat("x", 64001)); err == nil || !strings.Contains(err.Error(), "the limit is 64000") {
		t.Errorf("a 64,001-byte value: %v", err)
	}
	must(r.SetSetting(ctx, "big", strings.Repeat("x", 64000)))
	// A rename keeps its own names.
	must(r.EditSystem(ctx, "mailhost", sys("mailhost2", "mail.dsas", 2)))
}

// Events are kept by the system's identity: a rename keeps its timeline,
// and a new system with an old name does not inherit the old events.
func TestEventsFollowTheSystemsIdentity(t *testing.T) {
	ctx := context.Background()
	r, st, must := seededRegistry(t, "")
	web := System{Name: "web01", MACs: []string{"52:54:00:00:02:01"}, IP: "10.0.0.21", Profile: "p"}
	must(r.AddSystem(ctx, web))
	log := NewEventLog(st, 100)
	log.SetIdentity(func(name string) string { id, _ := r.Snapshot().SystemID(name); return id })
	flush := func() {
		t.Helper()
		c, cancel := context.WithCancel(ctx)
		cancel() // Run writes what is queued, then returns
		if err := log.Run(c); err != nil {
			t.Fatal(err)
		}
	}
	log.Record(Event{System: "web01", Kind: "dhcp", Detail: "ack"})
	flush()
	renamed := web
	renamed.Name, renamed.Hostname = "web101", ""
	must(r.EditSystem(ctx, "web01", renamed))
	evs, err := log.Events(ctx, "web101", 10)
	if err != nil || len(evs) != 1 || evs[0].Kind != "dhcp" || evs[0].System != "web101" {
		t.Fatalf("after the rename, web101's events: %+v, %v", evs, err)
	}
	if err := r.RemoveSystem(ctx, "web101"); err != nil {
		t.Fatal(err)
	}
	must(r.AddSystem(ctx, System{Name: "web101", MACs: []string{"52:54:00:00:02:02"}, IP: "10.0.0.22", Profile: "p"}))
	if evs, _ := log.Events(ctx, "web101", 10); len(evs) != 0 {
		t.Errorf("a new web101 inherited the old one's events: %+v", evs)
	}
}

// Events recorded by name before systems had identities are found under
// the identity the system gets when loaded.
func TestLegacyEventsMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// A database of that time: no schema version, events without identity.
	for _, q := range []string{`DELETE FROM meta WHERE key = 'schema'`,
		`INSERT INTO events (at, system, mac, ip, kind, detail, sid) VALUES ('2026-01-01T00:00:00Z', 'old01', '', '', 'dhcp', 'legacy', '')`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	st, err = OpenSQLite(ctx, path) // the migration from version 0 runs at open
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.Events(ctx, LegacySystemID("old01"), 10)
	if err != nil || len(evs) != 1 || evs[0].Detail != "legacy" {
		t.Errorf("legacy events under old01's identity: %+v, %v", evs, err)
	}
}

// seededRegistry opens a registry in a new database with subnet lan
// (10.0.0.0/24, with pool, when given), image img and profile p, and returns
// it with its store and a helper that fails t on an error.
func seededRegistry(t *testing.T, pool string) (*Registry, *SQLStore, func(any, error)) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	r := reopen(t, path)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Pool: pool}))
	must(r.AddImage(ctx, Image{Name: "img", Files: map[string]File{"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}}))
	must(r.AddProfile(ctx, Profile{Name: "p", Image: "img"}))
	return r, r.store.(*SQLStore), must
}

// Every database has its own epoch (its creation time) and a random
// identity, kept across opens.
func TestDatabaseEpochAndInstance(t *testing.T) {
	open := func(path string) *Snapshot {
		reg := reopen(t, path)
		defer reg.Close()
		return reg.Snapshot()
	}
	dir := t.TempDir()
	a, b := open(filepath.Join(dir, "a.db")), open(filepath.Join(dir, "b.db"))
	now := uint64(time.Now().Unix())
	if a.Epoch+5 < now || a.Epoch > now || len(a.Instance) != 16 {
		t.Fatalf("epoch %d (now %d), instance %q", a.Epoch, now, a.Instance)
	}
	if a.Instance == b.Instance {
		t.Fatalf("two databases, one instance %s", a.Instance)
	}
	if again := open(filepath.Join(dir, "a.db")); again.Instance != a.Instance || again.Epoch != a.Epoch {
		t.Fatalf("reopened: %d %s, was %d %s", again.Epoch, again.Instance, a.Epoch, a.Instance)
	}
}

// The schema's version is kept in the database: a new one starts at
// SchemaVersion, one from before versions (no 'schema' row, an old
// history table) is migrated, and one written by a newer provision is
// refused, untouched.
func TestSQLiteSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	version := func(st *SQLStore) int {
		t.Helper()
		var v int
		if err := st.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v := version(st); v != SchemaVersion {
		t.Fatalf("a new database has schema %d, want %d", v, SchemaVersion)
	}

	// A database from before versions were kept.
	for _, q := range []string{`DELETE FROM meta WHERE key = 'schema'`, `ALTER TABLE history DROP COLUMN actor`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st.Close()
	if st, err = OpenSQLite(ctx, path); err != nil {
		t.Fatalf("open a database without a schema version: %v", err)
	}
	if v := version(st); v != SchemaVersion {
		t.Errorf("migrated database has schema %d, want %d", v, SchemaVersion)
	}
	var actor int
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('history') WHERE name = 'actor'`).Scan(&actor)
	if actor != 1 {
		t.Error("the migration did not add history.actor back")
	}

	// A database of a newer provision.
	st.db.ExecContext(ctx, `UPDATE meta SET value = 99 WHERE key = 'schema'`)
	st.Close()
	_, err = OpenSQLite(ctx, path)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), path) {
		t.Fatalf("open a newer database: %v, want ErrSchemaTooNew naming version 99 and %s", err, path)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	if err := raw.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); err != nil || v != 99 {
		t.Errorf("the refused database's version is now %d (%v), want 99 untouched", v, err)
	}
}
