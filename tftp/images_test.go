package tftp

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dirImages serves images from dir/IMAGE/ROLE.
type dirImages string

func (d dirImages) OpenImageFile(image, role string) (*os.File, error) {
	f, err := os.Open(filepath.Join(string(d), image, role))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("image %s has no %s: %w", image, role, fs.ErrNotExist)
	}
	return f, err
}

// GRUB reads the kernel and initrd over TFTP at the paths its generated
// config names: images/IMAGE/{kernel,initrd}, from Config.Images, never
// from the boot files' directory; other names under images/ are not
// image files.
func TestImageFilesOverTFTP(t *testing.T) {
	root, _ := newRoot(t)
	store := t.TempDir()
	kernel := bytes.Repeat([]byte("kernel!"), 100_000) // 700 kB: many blocks
	os.MkdirAll(filepath.Join(store, "debian-12"), 0o755)
	os.WriteFile(filepath.Join(store, "debian-12", "kernel"), kernel, 0o644)
	os.WriteFile(filepath.Join(store, "debian-12", "rootfs"), []byte("not over tftp"), 0o644)
	ts := startServerConfig(t, Config{Root: root, Hosts: testHosts, Images: dirImages(store), Timeout: time.Second})

	got, tsize, err := fetch(t, ts.addr, "/images/debian-12/kernel", 1468)
	if err != nil {
		t.Fatalf("fetch the kernel: %v", err)
	}
	if d := diffBytes(got, kernel); d != "" || tsize != int64(len(kernel)) {
		t.Errorf("kernel: %s, tsize %d", d, tsize)
	}
	if ev := ts.event(t); ev.Err != nil || ev.Bytes != int64(len(kernel)) || ev.Role != "kernel" {
		t.Errorf("event %+v", ev)
	}
	for _, name := range []string{"images/debian-12/initrd", "images/nosuch/kernel", "images/debian-12/rootfs", "images/kernel", "a/images/debian-12/kernel"} {
		if _, _, err := fetch(t, ts.addr, name, 0); err == nil {
			t.Errorf("fetch %s: served, want file not found", name)
		}
		if ev := ts.event(t); !errors.Is(ev.Err, fs.ErrNotExist) {
			t.Errorf("fetch %s: event error %v, want not found", name, ev.Err)
		}
	}

	noImages := startServer(t, root, testHosts)
	if _, _, err := fetch(t, noImages.addr, "images/debian-12/kernel", 0); err == nil {
		t.Error("a server without Images served an image file")
	}
}
