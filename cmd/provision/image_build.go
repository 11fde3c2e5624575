package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/roles"
)

func newImageBuild() *cobra.Command {
	c := &cobra.Command{
		Use:   "build NAME --debian SUITE [--kind diskless|disk] [--packages P,P...] [--overlay DIR] [--secure-boot] [--kernel-package DEB] [--exclude GLOB,...] [--keep GLOB,...] [--output FILE]",
		Short: "Build a diskless or disk image from Debian with mmdebstrap, and add it",
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
--exclude leaves more of the packages' files out (dpkg path-exclude globs of
the paths the packages ship, e.g. /lib/modules/*/kernel/sound/* for
bookworm's kernel: hardware the machines do not have); --keep puts back
what they left out (dpkg path-include globs, after the excludes), e.g.
--exclude '/lib/modules/*/kernel/drivers/*' --keep '/lib/modules/*/kernel/drivers/virtio/*'
for a kernel with the drivers of virtual machines only.
--overlay DIR is copied over the root last: it carries the role's hooks and
configuration. The kernel package is the one apt would install now
(linux-image-amd64's dependency) unless --kernel-package names one.
With --no-add the root archive is only written to --output.

--kind disk builds the root of a disk image, which a profile deploys to
the machines' disks and which boots with its own kernel and GRUB. It adds
` + strings.Join(roles.DiskPackages, ", ") + `
(with --secure-boot also ` + strings.Join(roles.SecureBootPackages, ", ") + `),
enables systemd-networkd and ssh, removes the SSH host keys (a unit makes
each machine's own at its first boot, before sshd) and locks root's
password: logins are by the SSH keys of the setting ssh.authorized-keys.
The kernel package then boots the deployer (see "Disk images" in
docs/diskless.md).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			f := c.Flags()
			suite, _ := f.GetString("debian")
			pkgs, _ := f.GetStringSlice("packages")
			overlay, _ := f.GetString("overlay")
			output, _ := f.GetString("output")
			kpkg, _ := f.GetString("kernel-package")
			kind, _ := f.GetString("kind")
			secure, _ := f.GetBool("secure-boot")
			exclude, _ := f.GetStringSlice("exclude")
			keep, _ := f.GetStringSlice("keep")
			if kind != registry.KindDiskless && kind != registry.KindDisk {
				return usage(fmt.Errorf("image %s: --kind %q: build makes a diskless or a disk image (an install image is an installer's kernel and initrd: image add)", a[0], kind))
			}
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
			root := roles.DebianRoot{Suite: suite, Packages: pkgs, Overlay: overlay, Disk: kind == registry.KindDisk, SecureBoot: secure, Exclude: exclude, Keep: keep}
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
			img, err := imageFromPaths(c, a[0], kind, map[string]string{"rootfs": output, "kernel-package": kpkg}, true)
			if err != nil {
				return err
			}
			return addImage(c, img)
		},
	}
	f := c.Flags()
	f.String("debian", "", "Debian suite to build from: bookworm, trixie... (required)")
	f.String("kind", registry.KindDiskless, "diskless (a role booted into memory) or disk (deployed to the machines' disks)")
	f.Bool("secure-boot", false, "with --kind disk: add shim-signed and grub-efi-amd64-signed")
	f.StringSlice("packages", nil, "packages of the role, comma-separated")
	f.String("overlay", "", "directory copied over the root last: the role's hooks and files")
	f.StringSlice("exclude", nil, "paths left out of the root, comma-separated dpkg path-exclude globs (e.g. /lib/modules/*/kernel/sound/*)")
	f.StringSlice("keep", nil, "paths --exclude left out that the root keeps, comma-separated dpkg path-include globs (e.g. /lib/modules/*/kernel/drivers/virtio/*)")
	f.String("kernel-package", "", "Debian kernel package (.deb) to boot (default: apt-get download of the current one)")
	f.String("output", "", "keep the root archive here (.tar.zst, .tar.gz or .tar)")
	f.Bool("no-add", false, "only build the root archive (--output), for image add on another machine")
	c.MarkFlagRequired("debian")
	return c
}
