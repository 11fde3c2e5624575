package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/registry"
)

func newBootenv() *cobra.Command {
	c := &cobra.Command{Use: "bootenv", Short: "The boot environment (initramfs) that diskless hosts boot, and disk images' deployer"}
	build := &cobra.Command{
		Use:   "build [IMAGE...]",
		Short: "Rebuild the boot environment of diskless and disk images",
		Long: `Rebuild the kernel and boot environment of the named diskless or disk images (all
that have a kernel package when none is named) from their kernel package,
with the appliance's current busybox and zonecfg: run it after upgrading
either. Adding or editing an image with --kernel-package builds it too.

The boot environment brings the network up by DHCP, fetches data.cdb and
the role's rootfs (sha256 checked, resumed and retried), unpacks it into a
tmpfs and switch_roots to the role's init, reporting each step to the
system's timeline (provision system status NAME). A disk image's also
carries the deploy tools (sfdisk, wipefs, blkid, blockdev, mkfs.ext4,
mkfs.vfat, mdadm, zstd), copied again from this machine.`,
		RunE: func(c *cobra.Command, a []string) error {
			var out []registry.Image
			// Each image takes a while: its kernel package is unpacked.
			if err := clientWaiting(c, 30*time.Minute).Do(ctx(c), "POST", api.Path("bootenv"), map[string]any{"images": a}, &out); err != nil {
				return err
			}
			if asJSON(c) {
				return json.NewEncoder(c.OutOrStdout()).Encode(out)
			}
			for _, img := range out {
				fmt.Fprintf(c.OutOrStdout(), "%s: %s, initrd %s\n", img.Name, img.Bootenv, human.Size(img.Files["initrd"].Size))
			}
			if len(out) == 0 {
				fmt.Fprintln(c.OutOrStdout(), "no diskless or disk image has a kernel package")
			}
			return nil
		},
	}
	build.Flags().Bool("json", false, "print the rebuilt images as JSON")
	c.AddCommand(build)
	return c
}
