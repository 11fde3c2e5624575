package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gzipTar(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	tw := tar.NewWriter(z)
	for name, data := range members {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(data))})
		tw.Write([]byte(data))
	}
	tw.Close()
	z.Close()
	return buf.Bytes()
}

// Diskless images are checked when added, and each refusal names the
// image and what is wrong; nothing is registered.
func TestDisklessImageRefusals(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	good := write("good.tar.gz", gzipTar(t, map[string]string{"sbin/init": "#!/bin/sh\n"}))
	climbs := write("climbs.tar.gz", gzipTar(t, map[string]string{"../../etc/cron.d/x": "x"}))
	notTar := write("not.tar.gz", []byte(strings.Repeat("not an archive ", 100)))
	notDeb := write("linux-image.deb", []byte("!<arch>\nnot a kernel package"))
	kernel := write("vmlinuz", []byte("kernel"))
	initrd := write("initrd", []byte("initrd"))

	s.fails(`image bad: rootfs: member "../../etc/cron.d/x" would unpack outside the root`,
		"image", "add", "bad", "--kind", "diskless", "--kernel", kernel, "--initrd", initrd, "--rootfs", climbs)
	s.fails("image bad: rootfs: not a tar archive",
		"image", "add", "bad", "--kind", "diskless", "--kernel", kernel, "--initrd", initrd, "--rootfs", notTar)
	for _, want := range []string{"image bad: kernel-package sha256:", ": not a Debian package: dpkg-deb -x"} {
		s.fails(want, "image", "add", "bad", "--kind", "diskless", "--kernel-package", notDeb, "--rootfs", good)
	}
	s.fails("image bad: give --kernel and --initrd, or --kernel-package",
		"image", "add", "bad", "--kind", "diskless", "--rootfs", good)
	if out := s.ok("image", "list"); strings.Contains(out, "bad") {
		t.Errorf("a refused image was registered:\n%s", out)
	}
	// An uploaded boot environment is kept as it is, and measured.
	s.ok("image", "add", "own", "--kind", "diskless", "--kernel", kernel, "--initrd", initrd, "--rootfs", good)
	if out := s.ok("image", "show", "own"); !strings.Contains(out, "unpacked_size: 4096") {
		t.Errorf("image show:\n%s", out)
	}
	// edit replaces the files given and keeps the others.
	bigger := write("bigger.tar.gz", gzipTar(t, map[string]string{"sbin/init": "#!/bin/sh\n", "etc/big": strings.Repeat("x", 5000)}))
	s.ok("image", "edit", "own", "--rootfs", bigger)
	if out := s.ok("image", "show", "own"); !strings.Contains(out, "unpacked_size: 12288") || !strings.Contains(out, "kernel:") {
		t.Errorf("image show after edit:\n%s", out)
	}
	s.fails(`image own: rootfs: member "../../etc/cron.d/x" would unpack outside the root`, "image", "edit", "own", "--rootfs", climbs)
	s.fails("image own has no kernel package", "bootenv", "build", "own")
	s.fails("image nope not found", "bootenv", "build", "nope")
	if out := s.ok("bootenv", "build"); !strings.Contains(out, "no diskless or disk image has a kernel package") {
		t.Errorf("bootenv build with nothing to build: %q", out)
	}
}
