package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/bootenv"
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
boot hooks (see "Boot hooks" in the README):
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
				return usageError{fmt.Errorf("image %s: --no-add needs --output", a[0])}
			}
			if err := mmdebstrap(c, suite, pkgs, overlay, output); err != nil {
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

var suiteName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// Units the image build adds: they run /usr/lib/provision/boot-hooks,
// which the boot environment copies into the root.
const (
	hooksUnit = `[Unit]
Description=provision boot hooks: config files from data.cdb
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target network-pre.target
Wants=network-pre.target
ConditionPathExists=/usr/lib/provision/boot-hooks

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/lib/provision/boot-hooks run

[Install]
WantedBy=sysinit.target
`
	upUnit = `[Unit]
Description=provision: live DNS, data.cdb deleted, booted
DefaultDependencies=no
After=multi-user.target
Conflicts=shutdown.target
Before=shutdown.target
ConditionPathExists=/usr/lib/provision/boot-hooks

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/lib/provision/boot-hooks up

[Install]
WantedBy=multi-user.target
`
)

// mmdebstrap builds the root archive at output.
func mmdebstrap(c *cobra.Command, suite string, pkgs []string, overlay, output string) error {
	if !suiteName.MatchString(suite) {
		return fmt.Errorf("--debian %q is not a suite name", suite)
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is needed (apt-get install mmdebstrap): %w", err)
	}
	sources, err := aptSources(suite)
	if err != nil {
		return err
	}
	// udev: without it no device unit appears, and systemd waits 90 s for
	// /dev/ttyS0 before the serial getty (and multi-user.target).
	include := append([]string{"systemd-sysv", "udev"}, pkgs...)
	for _, p := range include {
		if !regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*$`).MatchString(p) {
			return fmt.Errorf("package %q is not a Debian package name", p)
		}
	}
	args := []string{"--variant=minbase", "--include=" + strings.Join(include, ","),
		"--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-include=/usr/share/doc/*/copyright",
		"--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/info/*",
		"--customize-hook=" + writeFileHook("/etc/systemd/system/provision-hooks.service", hooksUnit),
		"--customize-hook=" + writeFileHook("/etc/systemd/system/provision-up.service", upUnit),
		"--customize-hook=mkdir -p \"$1/etc/systemd/system/sysinit.target.wants\" \"$1/etc/systemd/system/multi-user.target.wants\" \"$1/etc/provision/boot.d\" \"$1/etc/provision/up.d\"" +
			" && ln -sf ../provision-hooks.service \"$1/etc/systemd/system/sysinit.target.wants/\"" +
			" && ln -sf ../provision-up.service \"$1/etc/systemd/system/multi-user.target.wants/\"" +
			" && : >\"$1/etc/fstab\" && rm -f \"$1/etc/hostname\" \"$1/etc/machine-id\" && : >\"$1/etc/machine-id\"" +
			" && passwd --root \"$1\" -d root",
	}
	if overlay != "" {
		st, err := os.Stat(overlay)
		if err != nil || !st.IsDir() {
			return fmt.Errorf("--overlay %s is not a directory", overlay)
		}
		abs, _ := filepath.Abs(overlay)
		args = append(args, "--customize-hook=sync-in "+abs+" /")
	}
	args = append(args, suite, output, "-")
	cmd := exec.CommandContext(ctx(c), "mmdebstrap", args...)
	cmd.Stdin = strings.NewReader(sources)
	cmd.Stdout, cmd.Stderr = c.ErrOrStderr(), c.ErrOrStderr()
	fmt.Fprintf(c.ErrOrStderr(), "provision: mmdebstrap %s with %s\n", suite, strings.Join(include, ", "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap: %w", err)
	}
	return nil
}

// writeFileHook is a --customize-hook that writes content to path in the root.
func writeFileHook(path, content string) string {
	return fmt.Sprintf("printf '%%s' '%s' >\"$1%s\"", strings.ReplaceAll(content, "'", `'\''`), path)
}

// aptSources returns this machine's enabled apt sources, in the one-line or
// deb822 form they are written in, with its own suite name replaced by
// suite: mmdebstrap reads them from standard input.
func aptSources(suite string) (string, error) {
	own := ""
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if m := regexp.MustCompile(`(?m)^VERSION_CODENAME=(\S+)`).FindSubmatch(b); m != nil {
			own = string(m[1])
		}
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	if len(files) == 0 {
		files, _ = filepath.Glob("/etc/apt/sources.list")
		more, _ := filepath.Glob("/etc/apt/sources.list.d/*.list")
		files = append(files, more...)
	}
	var out strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		text := string(b)
		if own != "" && own != suite {
			text = regexp.MustCompile(`\b`+regexp.QuoteMeta(own)+`\b`).ReplaceAllString(text, suite)
		}
		out.WriteString(strings.TrimSpace(text) + "\n\n")
	}
	if out.Len() == 0 {
		return "", fmt.Errorf("no apt sources in /etc/apt")
	}
	return out.String(), nil
}
