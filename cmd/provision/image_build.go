package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/roles"
)

func newImageBuild() *cobra.Command {
	c := &cobra.Command{
		Use:   "build NAME --debian SUITE [--packages P,P...] [--overlay DIR] [--kernel-package DEB] [--output FILE]",
		Short: "Build a diskless role image from Debian with mmdebstrap, and add it",
		Long: `Build a Debian root for a diskless role with mmdebstrap (run as root on this
machine, from its apt sources with the suite replaced by --debian), then add
it as a diskless image as "image add --kind diskless" does.

The root is Debian's minbase variant with systemd, udev and the --packages, minus
documentation, manual pages and locales, and two units that run the role's
boot hooks (see "Boot hooks" in docs/diskless.md):
  provision-hooks.service  early in boot: /usr/lib/provision/boot-hooks run,
                           the hooks of /etc/provision/boot.d, offline from data.cdb
  provision-up.service     once multi-user.target is reached:
                           /usr/lib/provision/boot-hooks up (live DNS, data.cdb
                           deleted, /etc/provision/up.d, the "booted" event)
--overlay DIR is copied over the root last: it carries the role's hooks and
configuration. The kernel package is the one apt would install now
(linux-image-amd64's dependency) unless --kernel-package names one.
With --no-add the root archive is only written to --output.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			f := c.Flags()
			suite, _ := f.GetString("debian")
			pkgs, _ := f.GetStringSlice("packages")
			overlay, _ := f.GetString("overlay")
			output, _ := f.GetString("output")
			kpkg, _ := f.GetString("kernel-package")
			tmp, err := os.MkdirTemp("", "provision-image-build-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if output == "" {
				output = filepath.Join(tmp, a[0]+".tar.zst")
			}
			if noAdd, _ := f.GetBool("no-add"); noAdd && !f.Changed("output") {
				return usage(fmt.Errorf("image %s: --no-add needs --output", a[0]))
			}
			root := roles.DebianRoot{Suite: suite, Packages: pkgs, Overlay: overlay}
			if err := root.Build(ctx(c), output, c.ErrOrStderr()); err != nil {
				return fmt.Errorf("image %s: %w", a[0], err)
			}
			if noAdd, _ := f.GetBool("no-add"); noAdd {
				fmt.Fprintln(c.OutOrStdout(), output)
				return nil
			}
			if kpkg == "" {
				if kpkg, err = bootenv.DownloadKernelPackage(tmp); err != nil {
					return fmt.Errorf("image %s: kernel package: %w", a[0], err)
				}
			}
			img, err := imageFromPaths(c, a[0], "diskless", map[string]string{"rootfs": output, "kernel-package": kpkg}, true)
			if err != nil {
				return err
			}
			return addImage(c, img)
		},
	}
	f := c.Flags()
	f.String("debian", "", "Debian suite to build from: bookworm, trixie... (required)")
	f.StringSlice("packages", nil, "packages of the role, comma-separated")
	f.String("overlay", "", "directory copied over the root last: the role's hooks and files")
	f.String("kernel-package", "", "Debian kernel package (.deb) to boot (default: apt-get download of the current one)")
	f.String("output", "", "keep the root archive here (.tar.zst, .tar.gz or .tar)")
	f.Bool("no-add", false, "only build the root archive (--output), for image add on another machine")
	c.MarkFlagRequired("debian")
	return c
}
