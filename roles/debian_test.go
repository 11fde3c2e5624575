package roles

import (
	"slices"
	"strings"
	"testing"
)

// hookWith returns the customize hook of args that contains s, or "".
func hookWith(args []string, s string) string {
	for _, a := range args {
		if strings.HasPrefix(a, "--customize-hook=") && strings.Contains(a, s) {
			return a
		}
	}
	return ""
}

func includeOf(t *testing.T, args []string) []string {
	t.Helper()
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--include="); ok {
			return strings.Split(p, ",")
		}
	}
	t.Fatal("no --include")
	return nil
}

// A diskless root stays as it was: no kernel, no GRUB, root's password
// empty for the console. A disk root gets a kernel, both GRUBs, networkd
// and ssh enabled, its own SSH keys at first boot, and a locked root.
func TestDebianRootArgs(t *testing.T) {
	diskless, err := DebianRoot{Suite: "bookworm", Packages: []string{"nginx"}}.args("/tmp/out.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if got := includeOf(t, diskless); !slices.Equal(got, []string{"systemd-sysv", "udev", "nginx"}) {
		t.Errorf("diskless includes %v", got)
	}
	if hookWith(diskless, "passwd --root \"$1\" -d root") == "" || hookWith(diskless, "ssh-keygen") != "" || hookWith(diskless, "passwd -l") != "" {
		t.Errorf("diskless hooks: %q", diskless)
	}
	if n := len(diskless); diskless[n-3] != "bookworm" || diskless[n-2] != "/tmp/out.tar.zst" || diskless[n-1] != "-" {
		t.Errorf("diskless ends with %q", diskless[n-3:])
	}

	disk, err := DebianRoot{Suite: "bookworm", Packages: []string{"nginx", "mdadm"}, Disk: true}.args("/tmp/out.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	inc := includeOf(t, disk)
	for _, p := range append(append([]string{}, DiskPackages...), "nginx") {
		if !slices.Contains(inc, p) {
			t.Errorf("disk root lacks %s: %v", p, inc)
		}
	}
	if slices.Contains(inc, "shim-signed") {
		t.Errorf("shim without --secure-boot: %v", inc)
	}
	seen := map[string]bool{}
	for _, p := range inc {
		if seen[p] {
			t.Errorf("%s is included twice: %v", p, inc)
		}
		seen[p] = true
	}
	for _, want := range []string{
		`chroot "$1" systemctl enable systemd-networkd.service ssh.service provision-ssh-keygen.service`,
		`rm -f "$1"/etc/ssh/ssh_host_*`,
		`chroot "$1" passwd -l root`,
		"/etc/systemd/system/provision-ssh-keygen.service",
		"/etc/systemd/system/provision-hooks.service", "/etc/systemd/system/provision-up.service",
		`: >"$1/etc/machine-id"`,
	} {
		if hookWith(disk, want) == "" {
			t.Errorf("disk root has no hook with %q", want)
		}
	}
	if hookWith(disk, "-d root") != "" {
		t.Error("a disk root's root gets an empty password")
	}
	// The unit that makes the keys runs before sshd.
	keygen := hookWith(disk, "ExecStart=/usr/bin/ssh-keygen -A")
	if !strings.Contains(keygen, "Before=ssh.service") || !strings.Contains(keygen, ">\"$1/etc/systemd/system/provision-ssh-keygen.service\"") {
		t.Errorf("keygen unit: %s", keygen)
	}

	// Exclude: more of dpkg's path-excludes, after the documentation's;
	// Keep: path-includes after them (dpkg takes the last that matches).
	small, err := DebianRoot{Suite: "bookworm", Disk: true, Exclude: []string{"/lib/modules/*/kernel/drivers/*"},
		Keep: []string{"/lib/modules/*/kernel/drivers/virtio/*"}}.args("/tmp/out.tar")
	if err != nil {
		t.Fatal(err)
	}
	exclude := slices.Index(small, "--dpkgopt=path-exclude=/lib/modules/*/kernel/drivers/*")
	keep := slices.Index(small, "--dpkgopt=path-include=/lib/modules/*/kernel/drivers/virtio/*")
	if exclude < 0 || keep < exclude || !slices.Contains(small, "--dpkgopt=path-exclude=/usr/share/man/*") {
		t.Errorf("Exclude and Keep: %q", small)
	}
	if slices.ContainsFunc(disk, func(a string) bool { return strings.Contains(a, "modules") }) {
		t.Errorf("without Exclude, modules are left out: %q", disk)
	}

	secure, err := DebianRoot{Suite: "trixie", Disk: true, SecureBoot: true}.args("/tmp/out.tar")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range SecureBootPackages {
		if !slices.Contains(includeOf(t, secure), p) {
			t.Errorf("secure boot root lacks %s", p)
		}
	}
}

func TestDebianRootRefuses(t *testing.T) {
	for name, d := range map[string]DebianRoot{
		"suite":                   {Suite: "Bookworm;rm"},
		"package":                 {Suite: "bookworm", Packages: []string{"nginx; reboot"}},
		"secure boot, diskless":   {Suite: "bookworm", SecureBoot: true},
		"overlay not a directory": {Suite: "bookworm", Overlay: "/etc/passwd"},
		"exclude not from /":      {Suite: "bookworm", Exclude: []string{"usr/share/doc/*"}},
		"exclude with a newline":  {Suite: "bookworm", Exclude: []string{"/usr/share/doc/*\npath-include=/etc/*"}},
	} {
		if _, err := d.args("/tmp/x.tar"); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
