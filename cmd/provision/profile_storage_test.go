package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/provision/provision/registry"
)

// The layout flags change only what they name; a layout left empty is
// none, and a bad size is a usage error naming the profile and the flag.
func TestApplyStorage(t *testing.T) {
	defer parallel(t)()
	had := &registry.Storage{Disks: []string{"first", "second"}, RAID1: true, SwapMiB: 1024, RootMiB: 4096}
	for _, tt := range []struct {
		name  string
		had   *registry.Storage
		flags []string
		want  *registry.Storage
		err   string
	}{
		{"no flags", had, nil, had, ""},
		{"new layout", nil, []string{"--disk", "serial:QM0001,/dev/vdb", "--raid1", "--swap", "2G", "--root-size", "20G"},
			&registry.Storage{Disks: []string{"serial:QM0001", "/dev/vdb"}, RAID1: true, SwapMiB: 2048, RootMiB: 20480}, ""},
		{"swap only", had, []string{"--swap", "512M"}, &registry.Storage{Disks: []string{"first", "second"}, RAID1: true, SwapMiB: 512, RootMiB: 4096}, ""},
		{"disks cleared", had, []string{"--disk", ""}, &registry.Storage{RAID1: true, SwapMiB: 1024, RootMiB: 4096}, ""},
		{"all cleared", had, []string{"--disk", "", "--raid1=false", "--swap", "0", "--root-size", "0"}, nil, ""},
		{"bad size", had, []string{"--root-size", "1.5G"}, nil, `profile web: --root-size: size "1.5G"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &cobra.Command{Use: "add", RunE: func(*cobra.Command, []string) error { return nil }}
			storageFlags(c)
			c.SetArgs(tt.flags)
			c.SetOut(&bytes.Buffer{})
			if err := c.Execute(); err != nil {
				t.Fatal(err)
			}
			p := registry.Profile{Name: "web"}
			if tt.had != nil {
				st := *tt.had
				p.Storage = &st
			}
			err := applyStorage(c, &p)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Storage); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
		})
	}
}

// image add --kind disk needs both its files, and image build makes
// diskless or disk images only: both are refused before anything is
// uploaded or built.
func TestDiskImageUsage(t *testing.T) {
	defer parallel(t)()
	for _, args := range [][]string{
		{"image", "add", "web", "--kind", "disk", "--rootfs", "/nonexistent.tar.zst"},
		{"image", "add", "web", "--kind", "disk", "--kernel-package", "/nonexistent.deb"},
		{"image", "build", "web", "--debian", "bookworm", "--kind", "install"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := newRoot()
			root.SetArgs(append(args, "--server", "http://127.0.0.1:1"))
			root.SetOut(&out)
			root.SetErr(&errOut)
			err := root.Execute()
			if u := (usageError{}); !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error", err)
			}
			t.Log(err)
		})
	}
}
