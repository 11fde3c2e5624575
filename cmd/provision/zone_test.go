package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// provision zone compile reproduces tinydns-data's data.cdb byte for byte.
// Each vector's serial file holds the mtime its data.cdb was made with
// (see dnsconf/testdata/tinydns/README.md).
func TestZoneCompileGolden(t *testing.T) {
	dirs, _ := filepath.Glob("../../dnsconf/testdata/tinydns/t*")
	if len(dirs) != 8 {
		t.Fatalf("found %d golden vectors, want 8", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			serial, err := os.ReadFile(filepath.Join(dir, "serial"))
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "data.cdb")
			cmd := exec.Command(cli, "zone", "compile", "--serial", strings.TrimSpace(string(serial)), filepath.Join(dir, "data"), out)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, b)
			}
			got, _ := os.ReadFile(out)
			want, _ := os.ReadFile(filepath.Join(dir, "data.cdb"))
			if !bytes.Equal(got, want) {
				t.Fatalf("data.cdb differs from tinydns-data's (%d vs %d bytes)", len(got), len(want))
			}
		})
	}
}

func TestZoneCompileErrors(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "data"), filepath.Join(dir, "data.cdb")
	os.WriteFile(out, []byte("old"), 0o644)
	os.WriteFile(data, []byte("+ok.test:1.2.3.4\n!bad line\n"), 0o644)
	b, err := exec.Command(cli, "zone", "compile", data, out).CombinedOutput()
	if err == nil || !strings.Contains(string(b), "unable to parse data line 2") {
		t.Fatalf("bad line: %v %s", err, b)
	}
	if old, _ := os.ReadFile(out); string(old) != "old" {
		t.Fatal("a failed compile replaced the old data.cdb")
	}
	if b, err := exec.Command(cli, "zone", "compile", "--serial", "x", data, out).CombinedOutput(); err == nil {
		t.Fatalf("bad serial accepted: %s", b)
	}
}
