package registrytest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/dbtemplate"
	"github.com/provision/provision/registry"
)

// Zone is the DNS zone of the registries Open makes.
const Zone = "dsas"

// SHA is a file digest for images whose files the test never reads.
var SHA = strings.Repeat("a", 64)

// Open opens a registry of zone Zone on a fresh SQLite file in a
// temporary directory, closed at cleanup.
func Open(t testing.TB) *registry.Registry { t.Helper(); return OpenZone(t, Zone) }

// OpenZone is Open with another zone.
func OpenZone(t testing.TB, zone string) *registry.Registry {
	t.Helper()
	r, _ := OpenStore(t, zone)
	return r
}

// OpenStore is OpenZone that also gives the registry's store, for what
// writes beside the registry (an EventLog, a DynamicLog).
func OpenStore(t testing.TB, zone string) (*registry.Registry, *registry.SQLStore) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	if err := FreshSQLite(path); err != nil {
		t.Fatal(err)
	}
	st, err := registry.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := registry.Open(ctx, st, zone)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, st
}

// Seeded is Open's registry with a small network:
//
//	subnet  lan     10.0.0.0/24, gateway .1, DNS .2, pool .200-.250
//	image   img     install: kernel and initrd (SHA)
//	profile web     image img, loader pxelinux, kernel args console=ttyS0
//	system  web001  aa:bb:cc:dd:ee:01, 10.0.0.11, profile web, netboot, kernel args quiet
func Seeded(t testing.TB) *registry.Registry {
	t.Helper()
	r := Open(t)
	ctx := context.Background()
	Must(t,
		func() error {
			_, err := r.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1",
				DNSServers: []string{"10.0.0.2"}, Pool: "10.0.0.200-10.0.0.250"})
			return err
		},
		func() error {
			_, err := r.AddImage(ctx, registry.Image{Name: "img", Kind: registry.KindInstall,
				Files: map[string]registry.File{"kernel": {SHA256: SHA}, "initrd": {SHA256: SHA}}})
			return err
		},
		func() error {
			_, err := r.AddProfile(ctx, registry.Profile{Name: "web", Image: "img", KernelArgs: "console=ttyS0", Loader: registry.LoaderPXELinux})
			return err
		},
		func() error {
			_, err := r.AddSystem(ctx, registry.System{Name: "web001", MACs: []string{"aa:bb:cc:dd:ee:01"}, IP: "10.0.0.11",
				Profile: "web", Netboot: true, KernelArgs: "quiet"})
			return err
		},
	)
	return r
}

// Must runs steps in turn, and stops the test at the first error.
func Must(t testing.TB, steps ...func() error) {
	t.Helper()
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
}

// Import writes doc into r as `provision import` does, and stops the test
// when it is refused.
func Import(t testing.TB, r *registry.Registry, doc registry.Document) {
	t.Helper()
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Import(context.Background(), b, false); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// FreshSQLite makes path, which must not exist, a new registry database
// as OpenSQLite would: a copy of one made once per test process
// (internal/dbtemplate), less its epoch and instance, which its first
// OpenSQLite makes its own.
func FreshSQLite(path string) error {
	return dbtemplate.Copy(path, func(p string) error {
		st, err := registry.OpenSQLite(context.Background(), p)
		if err != nil {
			return err
		}
		return st.Close()
	}, ForgetOwn)
}

// ForgetOwn removes from a new registry database what no two databases
// share: the schema's INSERT OR IGNORE makes both anew at the next open.
const ForgetOwn = `DELETE FROM meta WHERE key IN ('epoch', 'instance')`
