package cobbler

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/provision/provision/internal/confine"
)

// files reads the files Cobbler's objects name (kernels, initrds,
// autoinstall templates). Under a root (Options.Root, or a templates
// directory) a path is read inside it only: a path that climbs out with
// "..", a symbolic link, or anything but a regular file is refused, and
// the error names the path.
type files struct {
	roots map[string]*os.Root // by directory; nil: it could not be opened
	errs  map[string]error
}

func newFiles() *files {
	return &files{roots: map[string]*os.Root{}, errs: map[string]error{}}
}

// open opens name inside dir; with dir "" name is a path of this
// machine, opened as it is (it must be a regular file).
func (f *files) open(dir, name string) (*os.File, error) {
	if dir == "" {
		return openRegular(name)
	}
	root, ok := f.roots[dir]
	if !ok {
		var err error
		root, err = os.OpenRoot(dir)
		f.roots[dir], f.errs[dir] = root, err
	}
	if root == nil {
		return nil, f.errs[dir]
	}
	rel := strings.TrimLeft(name, "/")
	if rel == "" {
		rel = "."
	}
	return confine.Open(root, rel)
}

// readFile reads the whole of name inside dir (see open).
func (f *files) readFile(dir, name string) ([]byte, error) {
	fl, err := f.open(dir, name)
	if err != nil {
		return nil, err
	}
	defer fl.Close()
	return io.ReadAll(fl)
}

func (f *files) close() {
	for _, r := range f.roots {
		if r != nil {
			r.Close()
		}
	}
}

// openRegular opens a path of this machine that must be a regular file.
func openRegular(path string) (*os.File, error) {
	fl, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := fl.Stat(); err != nil || !st.Mode().IsRegular() {
		fl.Close()
		if err == nil {
			err = &fs.PathError{Op: "open", Path: path, Err: confine.ErrNotRegular}
		}
		return nil, err
	}
	return fl, nil
}

// under shows name as a path inside dir, as given (not cleaned: a ".."
// that was refused stays visible).
func under(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimRight(dir, "/") + "/" + strings.TrimLeft(name, "/")
}

// readError is err without the path its caller names already.
func readError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// refused is a read error that is no mere absence: the path leaves its
// root, is a link or no regular file, or cannot be read.
func refused(err error) bool { return err != nil && !errors.Is(err, fs.ErrNotExist) }
