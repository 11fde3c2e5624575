package bind

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// The pool's guard sees systems added after it was made.
func TestRegisteredAddressFollowsTheRegistry(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Open(t)
	inUse := InUse(reg)
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
