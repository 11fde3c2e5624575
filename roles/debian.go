package roles

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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
//
// With Disk it is the root of a disk image, which boots from a disk with
// its own kernel and GRUB: DiskPackages (SecureBootPackages too with
// SecureBoot) are added, systemd-networkd and ssh are enabled, the SSH
// host keys are removed (a unit makes each machine its own at its first
// boot) and root's password is locked (SSH keys only).
type DebianRoot struct {
	Suite      string   // bookworm, trixie...
	Packages   []string // the role's packages
	Overlay    string   // "": none
	Disk       bool     // a disk image's root
	SecureBoot bool     // with Disk: shim and Debian's signed GRUB
	// Exclude are paths of the packages' files left out of the root
	// (dpkg's path-exclude globs, from /): a lab's disk image leaves out
	// the kernel modules of hardware its machines do not have, which
	// every deploy would unpack.
	Exclude []string
	// Keep puts back paths that Exclude left out (dpkg's path-include
	// globs, after the excludes): a whole tree left out but for what the
	// machines use, as a lab's disk image keeps of its kernel's drivers
	// only those of its VMs' devices.
	Keep []string
}

// DiskPackages are what a disk image's root has beyond minbase: a kernel
// and its initramfs, GRUB for BIOS and UEFI with efibootmgr for the NVRAM
// entry, systemd-networkd (in systemd) with iproute2, openssh-server, and
// the tools of a RAID1 root and its filesystems.
var DiskPackages = []string{"linux-image-amd64", "initramfs-tools", "grub-pc-bin", "grub-efi-amd64-bin",
	"grub2-common", "efibootmgr", "systemd-sysv", "udev", "openssh-server", "mdadm", "e2fsprogs",
	"dosfstools", "iproute2", "ca-certificates"}

// SecureBootPackages boot a disk image through UEFI Secure Boot: shim
// (signed by Microsoft), then GRUB signed by Debian.
var SecureBootPackages = []string{"shim-signed", "grub-efi-amd64-signed"}

var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*$`)

// excludeGlob is what an Exclude path may be: dpkg reads the whole line.
var excludeGlob = regexp.MustCompile(`^/[A-Za-z0-9/._+*?-]+$`)

// Build writes the root archive to output (.tar.zst, .tar.gz or .tar),
// from this machine's apt sources with its suite replaced by Suite;
// mmdebstrap's output goes to log. It runs as root.
func (d DebianRoot) Build(ctx context.Context, output string, log io.Writer) error {
	args, err := d.args(output)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is needed (apt-get install mmdebstrap): %w", err)
	}
	sources, err := aptSources(d.Suite)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	cmd.Stdin = strings.NewReader(sources)
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintf(log, "provision: mmdebstrap %s with %s\n", d.Suite, strings.Join(d.include(), ", "))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap: %w", err)
	}
	return nil
}

// include lists the packages mmdebstrap adds to minbase, each once.
func (d DebianRoot) include() []string {
	// udev: without it no device unit appears, and systemd waits 90 s for
	// /dev/ttyS0 before the serial getty (and multi-user.target).
	include := []string{"systemd-sysv", "udev"}
	if d.Disk {
		include = append(include, DiskPackages...)
		if d.SecureBoot {
			include = append(include, SecureBootPackages...)
		}
	}
	var out []string
	for _, p := range append(include, d.Packages...) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// args returns mmdebstrap's arguments (its sources come on standard input).
func (d DebianRoot) args(output string) ([]string, error) {
	if !suiteName.MatchString(d.Suite) {
		return nil, fmt.Errorf("--debian %q is not a suite name", d.Suite)
	}
	if d.SecureBoot && !d.Disk {
		return nil, fmt.Errorf("--secure-boot is for a disk image: a diskless one boots the appliance's kernel")
	}
	for _, x := range d.Exclude {
		if !excludeGlob.MatchString(x) {
			return nil, fmt.Errorf("--exclude %q is not a path glob from / (letters, digits, / . _ - + * ?)", x)
		}
	}
	include := d.include()
	for _, p := range include {
		if !packageName.MatchString(p) {
			return nil, fmt.Errorf("package %q is not a Debian package name", p)
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
			" && : >\"$1/etc/fstab\" && rm -f \"$1/etc/hostname\" \"$1/etc/machine-id\" && : >\"$1/etc/machine-id\"",
	}
	for _, x := range d.Exclude {
		args = append(args, "--dpkgopt=path-exclude="+x)
	}
	for _, x := range d.Keep {
		args = append(args, "--dpkgopt=path-include="+x)
	}
	if d.Disk {
		args = append(args, diskHooks()...)
	} else {
		args = append(args, "--customize-hook=passwd --root \"$1\" -d root")
	}
	if d.Overlay != "" {
		st, err := os.Stat(d.Overlay)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--overlay %s is not a directory", d.Overlay)
		}
		abs, _ := filepath.Abs(d.Overlay)
		args = append(args, "--customize-hook=sync-in "+abs+" /")
	}
	return append(args, d.Suite, output, "-"), nil
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
