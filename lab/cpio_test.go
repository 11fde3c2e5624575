package lab

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/internal/testenv"
)

// testModules stands in for a kernel's modules: not ELF, which the
// archive does not care about.
var testModules = []bootenv.Module{{Name: "libphy", Data: []byte("phy")}, {Name: "e1000", Data: []byte("e1000 module")}}

func TestInitramfsGolden(t *testing.T) {
	img, err := buildInitramfs([]byte("busybox binary"), testModules)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := buildInitramfs([]byte("busybox binary"), testModules)
	if !bytes.Equal(img, again) {
		t.Error("two builds from equal inputs differ")
	}
	got := listCPIO(t, gunzip(t, img))
	golden(t, "initramfs.golden", got)
	golden(t, "init.golden", fmt.Sprintf(initScript, "libphy.ko e1000.ko"))
}

// TestInitramfsWithCPIO lists the archive with GNU cpio, a real reader.
func TestInitramfsWithCPIO(t *testing.T) {
	testenv.NeedCommand(t, "cpio")
	img, err := buildInitramfs([]byte("busybox binary"), testModules)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cpio", "-it", "--quiet")
	cmd.Stdin = bytes.NewReader(gunzip(t, img))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -it: %v", err)
	}
	var want []string
	for _, l := range strings.Split(strings.TrimSpace(listCPIO(t, gunzip(t, img))), "\n") {
		f := strings.Fields(l)
		want = append(want, f[2])
	}
	if diff := cmp.Diff(want, strings.Fields(string(out))); diff != "" {
		t.Errorf("cpio -it (-want +got):\n%s", diff)
	}
}

// TestInitScriptParses checks /init and the udhcpc script with busybox sh -n.
func TestInitScriptParses(t *testing.T) {
	sh := testenv.NeedCommand(t, "busybox")
	for name, script := range map[string]string{"init": fmt.Sprintf(initScript, "e1000.ko"), "udhcpc": udhcpcScript} {
		f := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, "sh", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: busybox sh -n: %v\n%s", name, err, out)
		}
	}
}

func TestCPIORejects(t *testing.T) {
	for _, tc := range []struct{ name, member string }{
		{"absolute", "/etc"},
		{"dot-dot", "../etc"},
		{"unclean", "etc//x"},
		{"empty", ""},
		{"no parent", "usr/bin"},
		{"nul", "a\x00b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := bootenv.NewArchive().Dir(tc.member, 0o755); err == nil {
				t.Errorf("Dir(%q) accepted", tc.member)
			}
		})
	}
	a := bootenv.NewArchive()
	if err := a.Dir("etc", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.File("etc", 0o644, nil); err == nil {
		t.Error("duplicate member accepted")
	}
	if err := a.File("etc/x/y", 0o644, nil); err == nil {
		t.Error("member without its parent directory accepted")
	}
}

// listCPIO parses a newc archive into "mode size name[ -> target]" lines.
func listCPIO(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	for off := 0; ; {
		if len(b)-off < 110 || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) int {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d at %d: %v", i, off, err)
			}
			return int(v)
		}
		mode, size, rmajor, rminor, nameLen := field(1), field(6), field(9), field(10), field(11)
		name := string(b[off+110 : off+110+nameLen-1])
		off = align4(off + 110 + nameLen)
		data := b[off : off+size]
		off = align4(off + size)
		if name == "TRAILER!!!" {
			return out.String()
		}
		fmt.Fprintf(&out, "%06o %d %s", mode, size, name)
		if mode&0o170000 == 0o120000 {
			fmt.Fprintf(&out, " -> %s", data)
		}
		if mode&0o170000 == 0o020000 {
			fmt.Fprintf(&out, " (%d,%d)", rmajor, rminor)
		}
		out.WriteByte('\n')
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if testenv.Updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
