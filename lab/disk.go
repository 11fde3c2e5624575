package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// Where the lab installer writes on its disk (/dev/vda, a raw file on the
// host):
//
//	0                    BootSector (512 bytes)
//	DiskLabelOffset      one sector: "PROVISION-LAB-DISK host=NAME bytes=N\n", zero padded
//	DiskTemplateOffset   the N bytes fetched from provision.ks=, verbatim
const (
	DiskLabelOffset    = 1<<20 - 512 // the sector before DiskTemplateOffset
	DiskTemplateOffset = 1 << 20     // 1 MiB
)

// ErrNotInstalled is returned by ReadInstalled for a disk without the
// installer's label.
var ErrNotInstalled = errors.New("lab: no installer label on the disk")

// NewDisk creates a sparse raw disk image of sizeMiB MiB in a new
// temporary directory and returns its path, for VMOptions.Disk.
func (e *Env) NewDisk(sizeMiB int) (string, error) {
	if sizeMiB < 2 {
		return "", fmt.Errorf("lab: NewDisk: %d MiB is smaller than the installer's layout", sizeMiB)
	}
	dir, err := e.TempDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "disk.raw")
	f, err := os.Create(path)
	if err == nil {
		err = f.Truncate(int64(sizeMiB) << 20)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return "", fmt.Errorf("lab: NewDisk: %w", err)
	}
	return path, nil
}

// ReadDisk returns n bytes of the disk image (or any file) at offset
// off; a region past its end is an error.
func ReadDisk(path string, off int64, n int) ([]byte, error) {
	b, err := readAt(path, off, n)
	if err != nil {
		return nil, fmt.Errorf("lab: ReadDisk: %w", err)
	}
	return b, nil
}

func readAt(path string, off int64, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("%s: %d bytes at %d: %w", path, n, off, err)
	}
	return b, nil
}

var labelPattern = regexp.MustCompile(`^` + DiskMarker + ` host=(\S*) bytes=(\d+)\n`)

// ReadInstalled parses what the lab installer wrote on a disk image: the
// host name of its label and the template bytes the label counts.
// A disk without a label gives ErrNotInstalled.
func ReadInstalled(path string) (host string, template []byte, err error) {
	label, err := readAt(path, DiskLabelOffset, 512)
	if err != nil {
		return "", nil, err
	}
	m := labelPattern.FindSubmatch(label)
	if m == nil {
		return "", nil, fmt.Errorf("%w: %s: %q", ErrNotInstalled, path, bytes.TrimRight(label, "\x00"))
	}
	n, err := strconv.Atoi(string(m[2]))
	if err != nil {
		return "", nil, fmt.Errorf("%s: label: %w", path, err)
	}
	template, err = readAt(path, DiskTemplateOffset, n)
	return string(m[1]), template, err
}
