package kickstart

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

func TestPreseedDebconf(t *testing.T) {
	bin := testenv.NeedCommand(t, "debconf-set-selections")
	for _, r := range renderingsOf(t, KindPreseed) {
		t.Run(r.name, func(t *testing.T) {
			if err := runChecker(t, r.text, bin, "--checkonly"); err != nil {
				t.Error(err)
			}
		})
	}
	doc := renderingsOf(t, KindPreseed)[0].text
	for _, broken := range []struct{ name, line string }{
		{"no type", "d-i netcfg/get_ipaddress\n"},
		{"unknown type", "d-i netcfg/get_ipaddress strin 10.0.0.11\n"},
		{"one word", "tasksel\n"},
	} {
		t.Run("rejects "+broken.name, func(t *testing.T) {
			text := append(bytes.Clone(doc), broken.line...)
			if runChecker(t, text, bin, "--checkonly") == nil {
				t.Errorf("debconf-set-selections accepted %q", broken.line)
			}
		})
	}
}

// debconfAnswers reads a preseed as debconf-set-selections does: comments
// and blank lines skipped, a line that ends in \ continued by the next,
// then "OWNER QUESTION TYPE VALUE". It maps each question to its value.
func debconfAnswers(t *testing.T, text []byte) map[string]string {
	t.Helper()
	answers := make(map[string]string)
	var line string
	for _, l := range strings.Split(string(text), "\n") {
		if more, ok := strings.CutSuffix(l, "\\"); ok {
			line += more
			continue
		}
		line, l = "", line+l
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 3 {
			t.Fatalf("bad line %q", l)
		}
		_, value, _ := strings.Cut(l, " "+f[2])
		answers[f[1]] = strings.TrimSpace(value)
	}
	return answers
}

func TestPreseedAnswers(t *testing.T) {
	got := debconfAnswers(t, renderingsOf(t, KindPreseed)[0].text)
	want := map[string]string{
		"netcfg/get_ipaddress":             "10.0.0.11",
		"netcfg/get_netmask":               "255.255.255.0",
		"netcfg/get_gateway":               "10.0.0.1",
		"netcfg/get_nameservers":           "10.0.0.1",
		"netcfg/get_hostname":              "web001",
		"netcfg/get_domain":                "internal",
		"mirror/http/hostname":             "10.0.0.1", // the appliance's cache
		"mirror/http/directory":            "/debian",
		"apt-setup/security_host":          "10.0.0.1",
		"apt-setup/security_path":          "/debian-security",
		"passwd/root-password-crypted":     "!",
		"pkgsel/include":                   "openssh-server wget",
		"debian-installer/add-kernel-opts": "console=ttyS0,115200n8", // the profile's serial console
	}
	for q, v := range want {
		if got[q] != v {
			t.Errorf("%s = %q, want %q", q, got[q], v)
		}
	}
}

// Without a cache of the appliance's, the installer goes to Debian's own
// archives; a setting overrides either.
func TestPreseedMirrorWithoutCache(t *testing.T) {
	set, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		settings                 map[string]string
		host, dir, security, sec string
	}{
		{nil, "deb.debian.org", "/debian", "security.debian.org", "/debian-security"},
		{map[string]string{"install.mirror": "http://mirror.example:3142/debian/", "install.security-mirror": "http://mirror.example/sec"},
			"mirror.example:3142", "/debian/", "mirror.example", "/sec"},
	} {
		d := SampleData()
		d.URLs.Mirrors, d.Settings = nil, c.settings
		out, err := set.Render("debian12-preseed", d)
		if err != nil {
			t.Fatal(err)
		}
		got := debconfAnswers(t, out)
		for q, v := range map[string]string{"mirror/http/hostname": c.host, "mirror/http/directory": c.dir,
			"apt-setup/security_host": c.security, "apt-setup/security_path": c.sec} {
			if got[q] != v {
				t.Errorf("%v: %s = %q, want %q", c.settings, q, got[q], v)
			}
		}
	}
}

func TestPreseedEarlyCommand(t *testing.T) {
	sh := testenv.NeedCommand(t, "sh")
	cmd := debconfAnswers(t, renderingsOf(t, KindPreseed)[0].text)["preseed/early_command"]
	stubs := map[string]string{"kill-all-dhcp": "", "netcfg": ""}
	dir := runStubbed(t, sh, strings.ReplaceAll(cmd, "/dev/console", "DIR/console"), stubs)
	if got, want := readFile(t, filepath.Join(dir, "console")), "provision: preseed of web001 loaded\n"; got != want {
		t.Errorf("console: %q, want %q", got, want)
	}
	for name := range stubs {
		if readFile(t, filepath.Join(dir, name+".args")) == "" {
			t.Errorf("%s did not run", name)
		}
	}
}

func TestPreseedDiskCommand(t *testing.T) {
	sh := testenv.NeedCommand(t, "sh")
	cmd := debconfAnswers(t, renderingsOf(t, KindPreseed)[0].text)["partman/early_command"]
	script := "mkdir DIR/sda DIR/vdb DIR/vdc && echo 100 > DIR/sda/size && echo 3000 > DIR/vdb/size && echo 200 > DIR/vdc/size && " +
		strings.ReplaceAll(cmd, "/sys/class/block", "DIR")
	dir := runStubbed(t, sh, script, map[string]string{"list-devices": "/dev/sda\n/dev/vdb\n/dev/vdc\n", "debconf-set": ""})
	want := "partman-auto/disk /dev/vdb\ngrub-installer/bootdev /dev/vdb\n"
	if diff := cmp.Diff(want, readFile(t, filepath.Join(dir, "debconf-set.args"))); diff != "" {
		t.Errorf("debconf-set (-want +got):\n%s", diff)
	}
}

func TestPreseedLateCommand(t *testing.T) {
	sh := testenv.NeedCommand(t, "sh")
	for _, r := range renderingsOf(t, KindPreseed) {
		t.Run(r.name, func(t *testing.T) {
			cmd := debconfAnswers(t, r.text)["preseed/late_command"]
			script := "mkdir -p DIR/target/root DIR/target/usr/local/sbin DIR/target/etc/systemd/system && " + strings.ReplaceAll(cmd, "/target", "DIR/target")
			dir := runStubbed(t, sh, script, map[string]string{"wget": "", "in-target": ""})
			if got, want := readFile(t, filepath.Join(dir, "wget.args")), "-q -O /dev/null --post-data  http://10.0.0.1/ks/TOKEN/done\n"; got != want {
				t.Errorf("wget %q, want %q", got, want)
			}
			if got, want := readFile(t, filepath.Join(dir, "in-target.args")), "systemctl enable provision-booted.service\n"; got != want {
				t.Errorf("in-target %q, want %q", got, want)
			}
			unit := readFile(t, filepath.Join(dir, "target/etc/systemd/system/provision-booted.service"))
			if !strings.Contains(unit, "ExecStart=/usr/local/sbin/provision-booted\n") || !strings.Contains(unit, "After=network-online.target\n") {
				t.Errorf("unit:\n%s", unit)
			}
			// The installed system's boot report, run with its commands stubbed.
			report := runStubbed(t, sh, filepath.Join(dir, "target/usr/local/sbin/provision-booted"),
				map[string]string{"wget": "", "uname": "6.1.0-50-amd64", "hostname": "10.0.0.11"})
			if got, want := readFile(t, filepath.Join(report, "wget.args")),
				"-q -O /dev/null --post-data booted\nkernel 6.1.0-50-amd64 firmware bios addresses 10.0.0.11 http://10.0.0.1/boot/event\n"; got != want && !strings.Contains(got, "firmware uefi") {
				t.Errorf("the boot report: wget %q, want %q", got, want)
			}
			key := readFile(t, filepath.Join(dir, "target/root/.ssh/authorized_keys"))
			if want := fullSettings()["ssh.authorized-key"] + "\n"; strings.HasSuffix(r.name, "-settings") && key != want {
				t.Errorf("authorized_keys %q, want %q", key, want)
			}
		})
	}
}
