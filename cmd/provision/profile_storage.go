package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/registry"
)

// storageFlags are a profile's disk layout, for a disk image's deploy.
func storageFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringSlice("disk", nil, "disk image: the disk to deploy to: first (default), second, smallest, largest, a path under /dev/ or serial:SERIAL; two, comma-separated, with --raid1; \"\" for the default")
	f.Bool("raid1", false, "disk image: the root, and the swap, on software RAID1s (mdadm) over two disks (default first,second); --raid1=false for one disk")
	f.String("swap", "", "disk image: a swap partition of SIZE (2G, 512M; binary units); 0 for none (the default)")
	f.String("root-size", "", "disk image: the root filesystem's SIZE (at least 1G); 0 for the rest of the disk (the default)")
}

// applyStorage applies the layout flags that were given to p's layout; a
// layout left with nothing set is none (the defaults).
func applyStorage(c *cobra.Command, p *registry.Profile) error {
	f := c.Flags()
	if !f.Changed("disk") && !f.Changed("raid1") && !f.Changed("swap") && !f.Changed("root-size") {
		return nil
	}
	var st registry.Storage
	if p.Storage != nil {
		st = *p.Storage
	}
	if f.Changed("disk") {
		st.Disks, _ = f.GetStringSlice("disk")
		if len(st.Disks) == 0 || len(st.Disks) == 1 && st.Disks[0] == "" {
			st.Disks = nil
		}
	}
	if f.Changed("raid1") {
		st.RAID1, _ = f.GetBool("raid1")
	}
	for flag, dst := range map[string]*int64{"swap": &st.SwapMiB, "root-size": &st.RootMiB} {
		if f.Changed(flag) {
			v, _ := f.GetString(flag)
			n, err := human.ParseMiB(v)
			if err != nil {
				return usage(fmt.Errorf("profile %s: --%s: %w", p.Name, flag, err))
			}
			*dst = n
		}
	}
	p.Storage = &st
	if len(st.Disks) == 0 && !st.RAID1 && st.SwapMiB == 0 && st.RootMiB == 0 {
		p.Storage = nil
	}
	return nil
}
