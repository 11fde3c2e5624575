package console

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// files are a ring's two files in its root: cur (NAME.log, appended to)
// and old (NAME.log.1, nil until the first rotation).
type files struct {
	root     *os.Root
	name     string // NAME.log
	cur, old *os.File
	size     int64 // cur's valid length
}

// openFiles opens NAME.log and NAME.log.1 in root, cutting a torn record
// off the end of NAME.log so that appending goes on after the last whole
// one. It returns the lines already in NAME.log.
func openFiles(root *os.Root, system string) (*files, []Line, error) {
	f := &files{root: root, name: system + ".log"}
	var err error
	if f.old, err = f.open(f.name+".1", os.O_RDONLY); errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return nil, nil, err
	}
	if f.cur, err = f.open(f.name, os.O_RDWR|os.O_APPEND|os.O_CREATE); err != nil {
		f.close()
		return nil, nil, err
	}
	lines, err := f.recover()
	if err != nil {
		f.close()
		return nil, nil, err
	}
	return f, lines, nil
}

// open opens a regular file of the ring (never a symlink or a device
// planted in its directory) with mode 0600.
func (f *files) open(name string, flag int) (*os.File, error) {
	if fi, err := f.root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("console: %s is not a regular file (%s)", name, fi.Mode().Type())
	}
	file, err := f.root.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if flag&os.O_CREATE == 0 {
		return file, nil
	}
	if err := file.Chmod(0o600); err != nil {
		file.Close()
		return nil, fmt.Errorf("console: %s: %w", name, err)
	}
	return file, nil
}

// recover reads NAME.log, truncates it after its last whole record and
// returns its lines.
func (f *files) recover() ([]Line, error) {
	b, err := io.ReadAll(f.cur)
	if err != nil {
		return nil, fmt.Errorf("console: read %s: %w", f.name, err)
	}
	lines, valid := decodeRecords(b)
	if valid < len(b) {
		if err := f.cur.Truncate(int64(valid)); err != nil {
			return nil, fmt.Errorf("console: cut the torn end of %s: %w", f.name, err)
		}
	}
	f.size = int64(valid)
	return lines, nil
}
