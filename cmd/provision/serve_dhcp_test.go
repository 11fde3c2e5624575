package main

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/registry"
)

// testRegistry opens a registry of zone dsas in a temporary directory,
// closed at cleanup.
func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	st, err := registry.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(context.Background(), st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

// The pool's guard sees systems added after it was made.
func TestRegisteredAddressFollowsTheRegistry(t *testing.T) {
	ctx := context.Background()
	reg := testRegistry(t)
	inUse := registeredAddress(reg)
	ip := netip.MustParseAddr("10.0.0.20")
	if inUse(ip) {
		t.Fatal("an empty registry holds 10.0.0.20")
	}
	for _, err := range []error{
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24", Pool: "10.0.0.100-10.0.0.200"})
			return err
		}(),
		func() error {
			_, err := reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
				"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}})
			return err
		}(),
		func() error { _, err := reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img"}); return err }(),
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "web01", MACs: []string{"52:54:00:00:00:01"}, IP: "10.0.0.20", Profile: "p"})
			return err
		}(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if !inUse(ip) {
		t.Error("the guard made before web01 was added does not see its address")
	}
}
