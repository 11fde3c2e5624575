package mirror

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArchive(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{in: "http://deb.debian.org/debian", want: "debian=http://deb.debian.org/debian"},
		{in: "http://deb.debian.org/debian/", want: "debian=http://deb.debian.org/debian"},
		{in: "https://security.debian.org/debian-security", want: "debian-security=https://security.debian.org/debian-security"},
		{in: "rocky=http://dl.rockylinux.org/pub/rocky", want: "rocky=http://dl.rockylinux.org/pub/rocky"},
		{in: "ubuntu=http://archive.ubuntu.com/ubuntu/", want: "ubuntu=http://archive.ubuntu.com/ubuntu"},
		{in: "el9.x86-64=http://mirror.example/9/", want: "el9.x86-64=http://mirror.example/9"},
		{in: "http://deb.debian.org/", err: `mirror archive "http://deb.debian.org/": name "." is not [a-z0-9][a-z0-9.-]*`},
		{in: "http://mirror.example/Debian", err: `mirror archive "http://mirror.example/Debian": name "Debian" is not [a-z0-9][a-z0-9.-]*`},
		{in: ".index=http://x/debian", err: `mirror archive ".index=http://x/debian": name ".index" is not [a-z0-9][a-z0-9.-]*`},
		{in: "ftp://ftp.debian.org/debian", err: `mirror archive "ftp://ftp.debian.org/debian": scheme "ftp" is not http or https`},
		{in: "debian=file:///srv/debian", err: `mirror archive "debian=file:///srv/debian": scheme "file" is not http or https`},
		{in: "http://x/debian?a=b", err: `mirror archive "http://x/debian?a=b": want http(s)://HOST/PATH without query or fragment`},
		{in: "deb.debian.org/debian", err: `mirror archive "deb.debian.org/debian": scheme "" is not http or https`},
	} {
		a, err := ParseArchive(tt.in)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = a.String()
		}
		if want := tt.want + tt.err; got != want {
			t.Errorf("ParseArchive(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestAptSources(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, "etc/apt", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sources.list", `# the installer's
deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_]/ bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian/ bookworm main
deb-src http://src.example/debian-src bookworm main
deb http://deb.debian.org/debian bookworm-updates main # the same archive again
deb file:/srv/local ./
deb http://mirror.example/ bookworm main
`)
	write("sources.list.d/a.list", "deb [ trusted=yes ] https://security.debian.org/debian-security bookworm-security main\n")
	write("sources.list.d/b.sources", `Types: deb deb-src
URIs: http://archive.ubuntu.com/ubuntu
 http://ports.example/ubuntu-ports
Suites: noble
Components: main

# switched off
Types: deb
URIs: http://off.example/disabled
Enabled: no
Suites: x

Types: deb-src
URIs: http://src.example/only-src
`)
	write("sources.list.d/c.list.disabled", "deb http://x.example/ignored stable main\n")
	got, err := AptSources(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range got {
		names = append(names, a.String())
	}
	want := []string{
		"debian=http://deb.debian.org/debian",
		"debian-security=https://security.debian.org/debian-security",
		"ubuntu=http://archive.ubuntu.com/ubuntu",
		"ubuntu-ports=http://ports.example/ubuntu-ports",
	}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("AptSources (-want +got):\n%s", d)
	}
	if got, err := AptSources(t.TempDir()); err != nil || len(got) != 0 {
		t.Errorf("AptSources of an empty root: %v, %v", got, err)
	}
}

func TestCleanPath(t *testing.T) {
	for _, tt := range []struct {
		in, want  string
		immutable bool
	}{
		{"dists/bookworm/InRelease", "dists/bookworm/InRelease", false},
		{"dists/bookworm/main/binary-amd64/by-hash/SHA256/abc", "dists/bookworm/main/binary-amd64/by-hash/SHA256/abc", true},
		{"pool//main/./h/hello.deb", "pool/main/h/hello.deb", true},
		{"pool/main/", "pool/main/", false},
		{"", "", false},
		{"dists/bookworm/main/installer-amd64/current/images/netboot/netboot.tar.gz", "dists/bookworm/main/installer-amd64/current/images/netboot/netboot.tar.gz", false},
		{"BaseOS/x86_64/os/Packages/b/bash-5.1.rpm", "BaseOS/x86_64/os/Packages/b/bash-5.1.rpm", true},
		{"BaseOS/x86_64/os/repodata/repomd.xml", "BaseOS/x86_64/os/repodata/repomd.xml", false},
		{"BaseOS/x86_64/os/repodata/repomd.xml.asc", "BaseOS/x86_64/os/repodata/repomd.xml.asc", false},
		{"BaseOS/x86_64/os/repodata/abc-primary.xml.gz", "BaseOS/x86_64/os/repodata/abc-primary.xml.gz", true},
		{"x/debian-installer/amd64/linux.udeb", "x/debian-installer/amd64/linux.udeb", true},
	} {
		got, err := cleanPath(tt.in)
		if err != nil || got != tt.want || immutable(got) != tt.immutable {
			t.Errorf("cleanPath(%q) = %q, %v, immutable %v; want %q, immutable %v", tt.in, got, err, immutable(got), tt.want, tt.immutable)
		}
	}
}
