package console

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// append writes whole records with one write; on a short write it cuts
// the file back so that no torn record stays in the middle of it.
func (f *files) append(rec []byte) error {
	n, err := f.cur.Write(rec)
	if err == nil {
		f.size += int64(n)
		return nil
	}
	if n > 0 {
		err = errors.Join(err, f.cur.Truncate(f.size))
	}
	return fmt.Errorf("console: write %s: %w", f.name, err)
}

// rotate renames NAME.log to NAME.log.1 (replacing the older half) and
// starts an empty NAME.log.
func (f *files) rotate() error {
	if err := f.root.Rename(f.name, f.name+".1"); err != nil {
		return fmt.Errorf("console: rotate %s: %w", f.name, err)
	}
	if f.old != nil {
		f.old.Close()
	}
	f.old = nil
	cur, err := f.open(f.name, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	f.old, f.cur, f.size = f.cur, cur, 0
	return nil
}

// readOld returns the valid records of NAME.log.1.
func (f *files) readOld() ([]Line, error) {
	if f.old == nil {
		return nil, nil
	}
	b, err := readAll(f.old, -1)
	if err != nil {
		return nil, fmt.Errorf("console: read %s.1: %w", f.name, err)
	}
	lines, _ := decodeRecords(b)
	return lines, nil
}

// readCur returns the records of NAME.log.
func (f *files) readCur() ([]Line, error) {
	b, err := readAll(f.cur, f.size)
	if err != nil {
		return nil, fmt.Errorf("console: read %s: %w", f.name, err)
	}
	lines, _ := decodeRecords(b)
	return lines, nil
}

// readAll reads the first size bytes of file (all of it if size < 0)
// without moving its offset.
func readAll(file *os.File, size int64) ([]byte, error) {
	if size < 0 {
		fi, err := file.Stat()
		if err != nil {
			return nil, err
		}
		size = fi.Size()
	}
	b := make([]byte, size)
	n, err := file.ReadAt(b, 0)
	if err == io.EOF {
		err = nil
	}
	return b[:n], err
}

// close closes both files.
func (f *files) close() error {
	var errs []error
	for _, file := range []*os.File{f.old, f.cur} {
		if file != nil {
			errs = append(errs, file.Close())
		}
	}
	return errors.Join(errs...)
}
