package bootenv

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
)

// Formats of a role's root image.
const (
	FormatTar  = "tar"
	FormatGzip = "tar.gz"
	FormatZstd = "tar.zst"
	FormatXz   = "tar.xz"
)

// RootfsInfo describes a role's root image.
type RootfsInfo struct {
	Format   string   // FormatTar, FormatGzip, ...
	Unpacked int64    // bytes of tmpfs its files take (each rounded up to 4 KiB pages)
	Entries  int      // tar members
	Disk     DiskRoot // what a disk image needs of it: kernels, GRUB
}

// Sniff names an archive's compression from its first bytes.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return FormatZstd
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return FormatXz
	}
	return FormatTar
}

// InspectRootfs reads a whole root image and checks that it is a tar
// archive that unpacks inside its root: no member may be absolute or
// climb out with "..". zstd and xz are read through the zstd and xz
// programs (Debian's zstd and xz-utils).
func InspectRootfs(r io.Reader) (RootfsInfo, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	info := RootfsInfo{Format: Sniff(head)}
	var tr io.Reader = br
	var wait func() error
	switch info.Format {
	case FormatGzip:
		z, err := gzip.NewReader(br)
		if err != nil {
			return info, fmt.Errorf("rootfs: gzip: %w", err)
		}
		tr = z
	case FormatZstd, FormatXz:
		prog := map[string]string{FormatZstd: "zstd", FormatXz: "xz"}[info.Format]
		cmd := exec.Command(prog, "-dc")
		cmd.Stdin = br
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return info, err
		}
		if err := cmd.Start(); err != nil {
			return info, fmt.Errorf("rootfs: %s is needed for a %s image: %w", prog, info.Format, err)
		}
		tr = out
		wait = func() error {
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("rootfs: %s -dc: %v: %s", prog, err, bytes.TrimSpace(stderr.Bytes()))
			}
			return nil
		}
	}
	err := walkTar(tar.NewReader(tr), &info)
	if wait != nil {
		io.Copy(io.Discard, tr)
		if werr := wait(); err == nil {
			err = werr
		}
	}
	return info, err
}

func walkTar(tr *tar.Reader, info *RootfsInfo) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if info.Entries == 0 {
				return errors.New("rootfs: empty archive")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("rootfs: not a tar archive (%s): %w", info.Format, err)
		}
		info.Entries++
		name := strings.TrimPrefix(h.Name, "./")
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
			return fmt.Errorf("rootfs: member %q would unpack outside the root", h.Name)
		}
		if h.Typeflag == tar.TypeReg {
			info.Unpacked += (h.Size + 4095) &^ 4095
		}
		info.Disk.note(name, h.Typeflag)
	}
}
