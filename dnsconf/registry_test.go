package dnsconf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"

	"github.com/provision/provision/internal/testenv"
)

const testSHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// openRegistry opens a registry on a fresh SQLite file (zone dsas) with a
// small fleet: two subnets, an image, two profiles with settings, three
// systems and global settings.
func openRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	ctx := context.Background()
	reg := registrytest.Open(t)
	steps := []func() error{
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"})
			return err
		},
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lab", CIDR: "10.9.4.0/23"})
			return err
		},
		func() error {
			_, err := reg.AddImage(ctx, registry.Image{Name: "centos", Kind: registry.KindInstall,
				Files: map[string]registry.File{"kernel": {SHA256: testSHA}, "initrd": {SHA256: testSHA}}})
			return err
		},
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "web", Image: "centos",
				Settings: map[string]string{"role": "frontend", "ntp.server": "10.0.0.1"}})
			return err
		},
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "db", Image: "centos"})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "web001", MACs: []string{"02:00:00:00:00:01"}, IP: "10.0.0.11",
				Profile: "web", Settings: map[string]string{"role": "canary", "ssh.keys": strings.Repeat("ssh-ed25519 AAAA ", 20)}})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "web002", Hostname: "www.dsas", MACs: []string{"02:00:00:00:00:02"},
				IP: "10.0.0.12", Profile: "web"})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "db001", Hostname: "db001.example.com", MACs: []string{"02:00:00:00:00:03"},
				IP: "10.9.5.3", Profile: "db", Settings: map[string]string{"Disk.Layout": "raid1\twith \"quotes\""}})
			return err
		},
		func() error { _, err := reg.SetSetting(ctx, "lvs.vrid", "100"); return err },
		func() error { _, err := reg.SetSetting(ctx, "motd", ""); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return reg
}

// zoneOf builds the zone of the registry's current snapshot.
func zoneOf(t testing.TB, reg *registry.Registry) *Zone {
	t.Helper()
	snap := reg.Snapshot()
	z, err := BuildZone(snap, Options{Origin: snap.Zone, Serial: snap.Serial, NS: applianceIP})
	if err != nil {
		t.Fatal(err)
	}
	if p := z.Problems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	return z
}

func TestRecordsGolden(t *testing.T) {
	z := zoneOf(t, openRegistry(t))
	var got strings.Builder
	for _, rr := range z.Records() {
		got.WriteString(rr.String() + "\n")
	}
	golden(t, filepath.Join("testdata", "zone", "small.golden"), got.String())
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if testenv.Updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestSerialFollowsRegistry: every commit gives a zone with a higher
// serial, in the SOA too.
func TestSerialFollowsRegistry(t *testing.T) {
	reg := openRegistry(t)
	before := zoneOf(t, reg)
	if _, err := reg.SetSetting(context.Background(), "lvs.vrid", "101"); err != nil {
		t.Fatal(err)
	}
	after := zoneOf(t, reg)
	if after.Serial() <= before.Serial() {
		t.Errorf("serial %d after a change, was %d", after.Serial(), before.Serial())
	}
	soa := after.Records()[0].(*dns.SOA)
	if uint64(soa.Serial) != after.Serial() {
		t.Errorf("SOA %s does not carry serial %d", soa, after.Serial())
	}
}

// The registry refuses every value DNS could not serve: one limit.
func TestOneValueLimit(t *testing.T) {
	if MaxTXTValue != registry.MaxValueLen {
		t.Errorf("dnsconf serves values up to %d bytes, the registry stores up to %d", MaxTXTValue, registry.MaxValueLen)
	}
}
