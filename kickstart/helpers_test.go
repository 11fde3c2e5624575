package kickstart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fullSettings sets every setting that the built-ins read, to values that
// need quoting.
func fullSettings() map[string]string {
	return map[string]string{
		"install.mirror":     "https://mirror.internal/pub/distro",
		"install.disk":       "/dev/nvme0n1",
		"install.locale":     "de_DE.UTF-8",
		"install.keyboard":   "de",
		"install.timezone":   "Europe/Berlin",
		"root.password-hash": "$6$salt$2ZrXhPp/NeeTnVd6gAGNkLl1z2cW0cNQ3m4i9dHu3L0",
		"ssh.authorized-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlL9sN2p1dI5C0Wk2N3a0m8q7oFjvW1zG0x3Yb4c5d6 ops@o'brien",
		"user.name":          "ops",
		"user.password-hash": "$6$salt$Qm2Yk9wz4s7Nq1Jr5Xe3Vb8Lc0Tg6Hd2Pa4Uf7Ki9Mo",
	}
}

// splitSecrets puts the password hashes of settings in secret settings,
// where the built-ins read them first (as the README sets them).
func splitSecrets(settings map[string]string) (plain, secrets map[string]string) {
	if settings == nil {
		return nil, nil
	}
	plain, secrets = map[string]string{}, map[string]string{}
	for k, v := range settings {
		if strings.HasSuffix(k, ".password-hash") {
			secrets[k] = v
		} else {
			plain[k] = v
		}
	}
	return plain, secrets
}

// rendering is one built-in rendered for SampleData, with or without
// fullSettings.
type rendering struct {
	name string // NAME or NAME-settings: its golden file is testdata/name.golden
	kind string
	text []byte
}

func renderings(t *testing.T) []rendering {
	t.Helper()
	s, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []rendering
	for _, b := range Builtins() {
		for _, v := range []struct {
			suffix   string
			settings map[string]string
		}{{"", nil}, {"-settings", fullSettings()}} {
			d := SampleData()
			d.Settings, d.Secrets = splitSecrets(v.settings)
			text, err := s.Render(b.Name, d)
			if err != nil {
				t.Fatalf("%s%s: %v", b.Name, v.suffix, err)
			}
			out = append(out, rendering{b.Name + v.suffix, b.Kind, text})
		}
	}
	return out
}

// renderingsOf returns the renderings of one kind.
func renderingsOf(t *testing.T, kind string) []rendering {
	t.Helper()
	var out []rendering
	for _, r := range renderings(t) {
		if r.kind == kind {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no built-in of kind %s", kind)
	}
	return out
}

// runChecker runs argv with a file holding text as its last argument. The
// checker rejects the file by its exit status or, since
// debconf-set-selections only warns about an unknown type, by writing to
// stderr.
func runChecker(t *testing.T, text []byte, argv ...string) error {
	t.Helper()
	file := filepath.Join(t.TempDir(), "doc")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], append(argv[1:], file)...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil && stderr.Len() > 0 {
		err = errors.New("wrote to stderr")
	}
	if err != nil {
		return fmt.Errorf("%s: %v: %s", filepath.Base(argv[0]), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// runStubbed runs script with sh, in a directory whose stubs stand in for
// the named commands: a stub prints its output and appends its arguments,
// one line a call, to DIR/NAME.args. It returns DIR.
func runStubbed(t *testing.T, sh, script string, stubs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, output := range stubs {
		stub := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s/%s.args\nprintf %%s %s\n", dir, name, shquote(output))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sh, "-c", strings.ReplaceAll(script, "DIR", dir))
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s\n%s", err, out, script)
	}
	return dir
}

// readFile returns the text of a file, or "" if it does not exist.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
