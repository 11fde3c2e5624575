package registry

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/provision/provision/internal/dbtemplate"
	"github.com/provision/provision/internal/pgtest"
)

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// openTest opens a registry on a fresh SQLite file, seeded with subnet
// lan (10.0.0.0/24, gateway .1, pool .200-.250), image and profile web.
func openTest(t testing.TB) (*Registry, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	r := reopen(t, path)
	ctx := context.Background()
	must(t, func() error {
		_, err := r.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250"})
		return err
	})
	must(t, func() error {
		_, err := r.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
		return err
	})
	must(t, func() error { _, err := r.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); return err })
	must(t, func() error { _, err := r.AddProfile(ctx, Profile{Name: "db", Image: "centos"}); return err })
	return r, path
}

func reopen(t testing.TB, path string) *Registry {
	t.Helper()
	st := openStore(t, path)
	r, err := Open(context.Background(), st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestMain stops the PostgreSQL server, if the tests started one. The
// tests cut import documents of 64 KiB or more into chunks of 100
// systems (splitMin, chunkEntries), not 1 MiB into 1,000: their streamed
// imports are a tenth the size, with as many chunks, and take seconds
// under -race, not minutes. Benchmarks keep the real sizes.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		splitMin, chunkEntries = 64<<10, 100
	}
	pgtest.Main(m)
}

// testStore is the backend the registry's tests run on: SQLite, or with
// PROVISION_TEST_STORE=postgres a database of a PostgreSQL server that
// internal/pgtest runs (scripts/test runs the tests on both).
var testStore = os.Getenv("PROVISION_TEST_STORE")

// pgDatabases maps a test's database path to its PostgreSQL database, so
// that opening the same path again (a restart) opens the same database.
var pgDatabases sync.Map

// openStore opens the Store of path on the test backend.
func openStore(t testing.TB, path string) *SQLStore {
	t.Helper()
	ctx := context.Background()
	var st *SQLStore
	var err error
	switch testStore {
	case "", "sqlite":
		// A new database is a copy of one made once (internal/dbtemplate),
		// less what each makes its own at its first open.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			err = dbtemplate.Copy(path, func(p string) error {
				st, err := OpenSQLite(ctx, p)
				if err != nil {
					return err
				}
				return st.Close()
			}, `DELETE FROM meta WHERE key IN ('epoch', 'instance')`)
			if err != nil {
				t.Fatal(err)
			}
		}
		st, err = OpenSQLite(ctx, path)
	case "postgres":
		url, ok := pgDatabases.Load(path)
		if !ok {
			url = pgtest.DB(t)
			pgDatabases.Store(path, url)
		}
		st, err = OpenPostgres(ctx, url.(string))
	default:
		t.Fatalf("PROVISION_TEST_STORE=%q: want sqlite or postgres", testStore)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func must(t testing.TB, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func sys(name, mac, ip string) System {
	return System{Name: name, MACs: []string{mac}, IP: ip, Profile: "web", Netboot: true}
}

func TestSystemConflicts(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	web1 := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	web1.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "s3cret"}
	if _, err := r.AddSystem(ctx, web1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sys  System
		want string
		kind error
	}{
		{"same ip", sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.11"), "ip 10.0.0.11 is already used by system web001", ErrConflict},
		{"mac other spelling dashes", sys("web002", "AA-BB-CC-DD-EE-01", "10.0.0.12"), "mac aa:bb:cc:dd:ee:01 is already used by system web001", ErrConflict},
		{"mac cisco dots", sys("web002", "aabb.ccdd.ee01", "10.0.0.12"), "mac aa:bb:cc:dd:ee:01 is already used by system web001", ErrConflict},
		{"same name", sys("web001", "aa:bb:cc:dd:ee:02", "10.0.0.12"), "system web001 already exists", ErrConflict},
		{"same hostname", func() System {
			s := sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")
			s.Hostname = "WEB001.dsas."
			return s
		}(), "hostname web001.dsas is already used by system web001", ErrConflict},
		{"outside subnets", sys("web002", "aa:bb:cc:dd:ee:02", "192.168.9.9"), "ip 192.168.9.9 is not inside any subnet", ErrInvalid},
		{"gateway", sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.1"), "ip 10.0.0.1 is the gateway of subnet lan", ErrConflict},
		{"broadcast", sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.255"), "ip 10.0.0.255 is the broadcast address of subnet lan", ErrConflict},
		{"network", sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.0"), "ip 10.0.0.0 is the network address of subnet lan", ErrConflict},
		{"pool", sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.210"), "ip 10.0.0.210 is inside the dynamic pool 10.0.0.200-10.0.0.250 of subnet lan", ErrConflict},
		{"bmc address of other", func() System {
			s := sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12")
			s.BMC = &BMC{Address: "10.0.1.11"}
			return s
		}(), "bmc address 10.0.1.11 is already the BMC address of system web001", ErrConflict},
		{"ip is a bmc", func() System { s := sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12"); return s }(), "", nil},
		{"bad mac", sys("web003", "aa:bb:cc", "10.0.0.13"), `mac "aa:bb:cc": not a 48-bit MAC address`, ErrInvalid},
		{"bad ip", sys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.300"), `ip "10.0.0.300": not an IPv4 address`, ErrInvalid},
		{"unknown profile", func() System { s := sys("web003", "aa:bb:cc:dd:ee:03", "10.0.0.13"); s.Profile = "nope"; return s }(), `system web003: profile "nope" does not exist`, ErrInvalid},
		{"bad name", sys("Web_3", "aa:bb:cc:dd:ee:03", "10.0.0.13"), "must be a DNS label", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.AddSystem(ctx, tt.sys)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.kind) {
				t.Fatalf("got %v, want %q (%v)", err, tt.want, tt.kind)
			}
		})
	}
	// a system IP may not be another system's BMC address either
	_, err := r.AddSystem(ctx, sys("web004", "aa:bb:cc:dd:ee:04", "10.0.0.99"))
	if err != nil {
		t.Fatal(err)
	}
	s5 := sys("web005", "aa:bb:cc:dd:ee:05", "10.0.0.15")
	s5.BMC = &BMC{Address: "10.0.0.99"}
	if _, err := r.AddSystem(ctx, s5); err == nil || !strings.Contains(err.Error(), "bmc address 10.0.0.99 is already used by system web004") {
		t.Fatalf("bmc on a system ip: got %v", err)
	}
}

func TestEditRenameAndProfileChange(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	s := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	s.BMC = &BMC{Address: "10.0.1.11", Password: "pw"}
	if _, err := r.AddSystem(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Name, s.Hostname, s.Profile, s.BMC = "web101", "", "db", &BMC{Address: "10.0.1.11"}
	got, err := r.EditSystem(ctx, "web001", s)
	if err != nil {
		t.Fatalf("rename with same ip, mac and bmc: %v", err)
	}
	if got.Hostname != "web101.dsas" || got.Profile != "db" || got.BMC.Password != "pw" {
		t.Fatalf("after rename: %+v %+v", got, got.BMC)
	}
	if _, ok := r.Snapshot().SystemByName("web001"); ok {
		t.Fatal("old name still present")
	}
	if _, err := r.EditSystem(ctx, "web101", s); err != nil {
		t.Fatalf("edit in place with nothing changed: %v", err)
	}
	r.Close()
	r2 := reopen(t, path)
	got2, ok := r2.Snapshot().SystemByName("web101")
	if !ok || got2.Profile != "db" || got2.BMC.Password != "pw" || len(got2.MACs) != 1 {
		t.Fatalf("after reopen: %+v", got2)
	}
	if _, err := r2.AddSystem(ctx, sys("web002", "aa:bb:cc:dd:ee:01", "10.0.0.12")); !errors.Is(err, ErrConflict) {
		t.Fatalf("mac of renamed system must still conflict: %v", err)
	}
}

func TestInUse(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{r.RemoveProfile(ctx, "web"), "profile web is in use by system web001"},
		{r.RemoveImage(ctx, "centos"), "image centos is in use by profile db, web"},
		{r.RemoveSubnet(ctx, "lan"), "subnet lan is in use by system web001"},
		{r.RemoveSystem(ctx, "nope"), "system nope not found"},
	} {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %q", c.err, c.want)
		}
	}
}

// A profile's loader is one the appliance hands out, and Secure Boot
// needs the chain that can do it (shim, then the signed GRUB).
func TestProfileLoaders(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	for _, p := range []Profile{
		{Name: "p-ipxe", Image: "centos", Loader: "ipxe"},
		{Name: "p-pxelinux", Image: "centos", Loader: "pxelinux"},
		{Name: "p-grub", Image: "centos", Loader: "grub"},
		{Name: "p-sb", Image: "centos", Loader: "grub", SecureBoot: true},
	} {
		if _, err := r.AddProfile(ctx, p); err != nil {
			t.Errorf("add %s: %v", p.Name, err)
		}
	}
	for _, tt := range []struct {
		p    Profile
		want string
	}{
		{Profile{Name: "bad", Image: "centos", Loader: "syslinux"}, `profile bad: loader "syslinux" must be ipxe, pxelinux or grub`},
		{Profile{Name: "bad", Image: "centos", SecureBoot: true}, `profile bad: secure boot needs loader grub (shim, then Debian's signed GRUB), not "ipxe"`},
		{Profile{Name: "bad", Image: "centos", Loader: "pxelinux", SecureBoot: true}, `not "pxelinux"`},
	} {
		_, err := r.AddProfile(ctx, tt.p)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("add %+v: %v, want ErrInvalid with %q", tt.p, err, tt.want)
		}
	}
	if p, _ := r.Snapshot().Profile("p-sb"); p == nil || !p.SecureBoot {
		t.Errorf("p-sb lost its secure boot: %+v", p)
	}
}
