// Package confine reads files of a tree that someone else filled (an
// unpacked package, a copy of another server's files) without leaving
// it: a path that climbs out with "..", or a symbolic link, is refused,
// and so is anything but a regular file (a device, a FIFO, a
// directory). The tree is an os.Root, which refuses every escape the
// kernel could take (openat2-style resolution, links included).
package confine

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Open opens name, a slash-separated path relative to root, for reading.
// The error names the path.
func Open(root *os.Root, name string) (*os.File, error) {
	st, err := root.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(name, st.Mode())
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	// The name may have been replaced between Lstat and Open: what was
	// opened is checked again.
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = notRegular(name, st.Mode())
		}
		return nil, err
	}
	return f, nil
}

// ReadFile reads the whole of the regular file name inside root.
func ReadFile(root *os.Root, name string) ([]byte, error) {
	f, err := Open(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// ErrNotRegular is the error of a path that is no regular file.
var ErrNotRegular = fmt.Errorf("not a regular file")

func notRegular(name string, m fs.FileMode) error {
	what := "a " + m.Type().String()
	switch {
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	case m.IsDir():
		what = "a directory"
	}
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, what)}
}
