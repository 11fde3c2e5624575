package dbtemplate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the driver "sqlite"
)

var (
	once     sync.Once
	template []byte
	made     error
)

// Copy writes a copy of the template to path, a file that must not exist
// yet. The first call makes the template: create makes a database at the
// path it is given and closes it, then forget (SQL) removes from it what
// no two databases may share.
func Copy(path string, create func(path string) error, forget string) error {
	once.Do(func() { template, made = build(create, forget) })
	if made != nil {
		return fmt.Errorf("dbtemplate: %w", made)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("dbtemplate: %w", err)
	}
	_, err = f.Write(template)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("dbtemplate: %s: %w", path, err)
	}
	return nil
}

// build makes the template in a directory of its own and reads it back.
func build(create func(path string) error, forget string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "dbtemplate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	if err := create(path); err != nil {
		return nil, fmt.Errorf("make the template: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(DELETE)")
	if err != nil {
		return nil, err
	}
	_, err = db.ExecContext(context.Background(), forget)
	if err2 := db.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return nil, fmt.Errorf("the template: %s: %w", forget, err)
	}
	// The whole database is in its file: journal_mode(DELETE) folded the
	// write-ahead log back in and removed it.
	for _, side := range []string{"-wal", "-journal"} {
		if _, err := os.Stat(path + side); !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("the template's %s is still there (%v): a copy of the file alone would lose it", side, err)
		}
	}
	return os.ReadFile(path)
}
