package kickstart

import (
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

// ksCommands are the anaconda commands the built-in may use.
var ksCommands = []string{"text", "url", "lang", "keyboard", "timezone", "network", "rootpw", "sshkey",
	"repo", "firewall", "selinux", "firstboot", "skipx", "ignoredisk", "%include", "zerombr", "clearpart",
	"autopart", "bootloader", "reboot"}

// kickstart is a kickstart split as anaconda reads it: commands, split
// into words as pykickstart does (Python's shlex.split, comments=True),
// and the bodies of sections (%pre, %post, %packages, %onerror) by header.
type kickstart struct {
	commands map[string][]string
	sections map[string]string
}

func parseKickstart(t *testing.T, text []byte) (kickstart, error) {
	t.Helper()
	ks := kickstart{commands: make(map[string][]string), sections: make(map[string]string)}
	var lines []string
	header, body := "", ""
	for _, l := range strings.Split(string(text), "\n") {
		switch {
		case header == "" && strings.HasPrefix(l, "%") && !strings.HasPrefix(l, "%include"):
			header = l
		case header != "" && l == "%end":
			ks.sections[header], header, body = body, "", ""
		case header != "":
			body += l + "\n"
		case l == "%end":
			return ks, fmt.Errorf("%%end outside a section")
		case strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#"):
			lines = append(lines, l)
		}
	}
	if header != "" {
		return ks, fmt.Errorf("section %q has no %%end", header)
	}
	for _, words := range shlexSplit(t, lines) {
		if !slices.Contains(ksCommands, words[0]) {
			return ks, fmt.Errorf("unknown command %q", words[0])
		}
		ks.commands[words[0]] = words[1:]
	}
	return ks, nil
}

func shlexSplit(t *testing.T, lines []string) [][]string {
	t.Helper()
	python := testenv.NeedCommand(t, "python3")
	in, _ := json.Marshal(lines)
	script := "import json, shlex, sys; print(json.dumps([shlex.split(l, comments=True) for l in json.load(sys.stdin)]))"
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("shlex: %v", err)
	}
	var words [][]string
	if err := json.Unmarshal(out, &words); err != nil {
		t.Fatal(err)
	}
	return words
}

func TestKickstartParses(t *testing.T) {
	doc := renderingsOf(t, KindKickstart)[0].text
	for _, c := range []struct {
		name string
		text []byte
		ok   bool
	}{
		{"built-in", doc, true},
		{"unclosed section", append(slices.Clip(doc), "%post\ntrue\n"...), false},
		{"unknown command", append(slices.Clip(doc), "nosuchcommand --yes\n"...), false},
		{"stray %end", append(slices.Clip(doc), "%end\n"...), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseKickstart(t, c.text); (err == nil) != c.ok {
				t.Errorf("parse: %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestKickstartCommands(t *testing.T) {
	s := fullSettings()
	r := renderingsOf(t, KindKickstart)
	plain, err := parseKickstart(t, r[0].text)
	if err != nil {
		t.Fatal(err)
	}
	full, err := parseKickstart(t, r[1].text)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"network", plain.commands["network"], []string{"--device=52:54:00:aa:bb:01", "--bootproto=static", "--ip=10.0.0.11",
			"--netmask=255.255.255.0", "--gateway=10.0.0.1", "--nameserver=10.0.0.1", "--hostname=web001.internal", "--activate", "--onboot=yes"}},
		{"rootpw", plain.commands["rootpw"], []string{"--lock"}},
		{"include", plain.commands["%include"], []string{"/tmp/provision-disk.ks"}},
		{"rootpw hash", full.commands["rootpw"], []string{"--iscrypted", s["root.password-hash"]}},
		{"sshkey", full.commands["sshkey"], []string{"--username=root", s["ssh.authorized-key"]}},
		{"url", full.commands["url"], []string{"--url=" + s["install.mirror"]}},
		{"ignoredisk", full.commands["ignoredisk"], []string{"--only-use=" + s["install.disk"]}},
		{"timezone", full.commands["timezone"], []string{s["install.timezone"], "--utc"}},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestKickstartScripts(t *testing.T) {
	bash := testenv.NeedCommand(t, "bash")
	ks, err := parseKickstart(t, renderingsOf(t, KindKickstart)[0].text)
	if err != nil {
		t.Fatal(err)
	}
	lsblk := "/dev/sda 500107862016 disk 0\n/dev/zram0 8589934592 disk 0\n/dev/sdb 32017047552 disk 1\n" +
		"/dev/nvme0n1 1000204886016 disk 0\n/dev/sr0 1073741312 rom 1\n"
	for _, c := range []struct{ header, stub, output, file, want string }{
		{"%pre --erroronfail", "lsblk", lsblk, "provision-disk.ks", "ignoredisk --only-use=/dev/nvme0n1\n"},
		{"%post --nochroot --erroronfail", "curl", "", "curl.args", "-fsS --retry 5 --retry-connrefused -X POST http://10.0.0.1/ks/TOKEN/done\n"},
		{"%onerror", "curl", "", "curl.args", "-fsS -X POST -H Content-Type: text/plain --data-binary @DIR/anaconda.log http://10.0.0.1/ks/TOKEN/failed\n"},
	} {
		t.Run(c.header, func(t *testing.T) {
			body, ok := ks.sections[c.header]
			if !ok {
				t.Fatalf("no section %q in %v", c.header, slices.Sorted(maps.Keys(ks.sections)))
			}
			dir := runStubbed(t, bash, strings.ReplaceAll(body, "/tmp/", "DIR/"), map[string]string{c.stub: c.output})
			if got, want := readFile(t, filepath.Join(dir, c.file)), strings.ReplaceAll(c.want, "DIR", dir); got != want {
				t.Errorf("%s: %q, want %q", c.file, got, want)
			}
		})
	}
}

// With a Rocky Linux archive in the appliance's cache, the install takes
// BaseOS and AppStream from it; install.mirror still wins.
func TestKickstartMirrorFromCache(t *testing.T) {
	set, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := SampleData()
	d.URLs.Mirrors = MirrorURLs(d.URLs.Server, []string{"debian", "rocky"})
	out, err := set.Render("rhel9-kickstart", d)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := parseKickstart(t, out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"--url=http://10.0.0.1/rocky/9/BaseOS/x86_64/os/"}, ks.commands["url"]); diff != "" {
		t.Errorf("url (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"--name=AppStream", "--baseurl=http://10.0.0.1/rocky/9/AppStream/x86_64/os/"}, ks.commands["repo"]); diff != "" {
		t.Errorf("repo (-want +got):\n%s", diff)
	}
	d.Settings = map[string]string{"install.mirror": "http://elsewhere/os/"}
	out, _ = set.Render("rhel9-kickstart", d)
	if ks, _ := parseKickstart(t, out); ks.commands["url"][0] != "--url=http://elsewhere/os/" || ks.commands["repo"] != nil {
		t.Errorf("with install.mirror: %v %v", ks.commands["url"], ks.commands["repo"])
	}
}
