package roles

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

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

// DebianRoot is a Debian root for a diskless role, built by mmdebstrap:
// the minbase variant with systemd, udev and Packages, minus
// documentation, manual pages and locales, with the units that run the
// role's boot hooks, and Overlay (a directory) copied over it last.
type DebianRoot struct {
	Suite    string   // bookworm, trixie...
	Packages []string // the role's packages
	Overlay  string   // "": none
}

// Build writes the root archive to output (.tar.zst, .tar.gz or .tar),
// from this machine's apt sources with its suite replaced by Suite;
// mmdebstrap's output goes to log. It runs as root.
func (d DebianRoot) Build(ctx context.Context, output string, log io.Writer) error {
	suite, pkgs, overlay := d.Suite, d.Packages, d.Overlay
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
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	cmd.Stdin = strings.NewReader(sources)
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "provision: mmdebstrap %s with %s\n", suite, strings.Join(include, ", "))
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
