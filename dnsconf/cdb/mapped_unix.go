//go:build unix

package cdb

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

func mapFile(f *os.File, fi os.FileInfo) ([]byte, func() error, error) {
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil, nil, errors.New("not a regular file with content")
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
