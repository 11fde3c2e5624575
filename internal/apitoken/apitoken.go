// Package apitoken keeps the appliance's API tokens: an admin token (read
// and write) and a read-only token, each a file of its own in the data
// directory (mode 0600), created at first start and replaced by Rotate.
// A running appliance sees a rotated token at its next request: Files
// reads a file again whenever it changed.
package apitoken

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/provision/provision/internal/durable"
)

// The tokens, by name: the name is what the audit log records.
const (
	Admin    = "admin"
	ReadOnly = "read-only"
)

// FileName is the file of a token in the data directory.
func FileName(name string) string {
	if name == ReadOnly {
		return "token-read-only"
	}
	return "token"
}

// Ensure creates the token files of dataDir that do not exist yet.
func Ensure(dataDir string) error {
	for _, name := range []string{Admin, ReadOnly} {
		path := filepath.Join(dataDir, FileName(name))
		if _, err := os.Stat(path); err == nil {
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s token: %w", name, err)
		}
		if err := write(path, false, syncDir); err != nil {
			return fmt.Errorf("%s token %s: %w", name, path, err)
		}
	}
	return nil
}

// Rotate replaces the token name of dataDir with a new random one, at
// once (write to a temporary file, then rename): the old token stops
// working at the appliance's next request. It returns the file's path.
func Rotate(dataDir, name string) (string, error) {
	path := filepath.Join(dataDir, FileName(name))
	if err := write(path, true, syncDir); err != nil {
		return "", fmt.Errorf("%s token %s: %w", name, path, err)
	}
	return path, nil
}

// write puts a new token in path: replacing it, or only if it does not
// exist yet. The file is synced, then its directory (with syncDir), so
// that a crash cannot lose the new name: the old token, or none, would
// come back.
func write(path string, replace bool, syncDir func(dir string) error) error {
	raw := make([]byte, 32)
	rand.Read(raw)
	tmp := path + ".new"
	if !replace {
		tmp = path
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if replace {
		os.Remove(tmp) // a leftover of a rotation that died
	}
	f, err := os.OpenFile(tmp, flags, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(hex.EncodeToString(raw) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && replace {
		err = os.Rename(tmp, path)
	}
	if err != nil && replace {
		os.Remove(tmp)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	return err
}

// syncDir fsyncs a directory: what makes a file created or renamed in it
// survive a crash.
var syncDir = durable.SyncDir

// Read returns the token name of dataDir.
func Read(dataDir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, FileName(name)))
	if err != nil {
		return "", fmt.Errorf("%s token: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Files checks bearer tokens against the token files of a data directory.
type Files struct {
	Dir string
	mu  sync.Mutex
	tok map[string]cached
}

type cached struct {
	value string
	mod   time.Time
	size  int64
	ino   uint64 // Rotate renames a new file over the old: a new inode
}

// Check returns the name of the token given (Admin or ReadOnly), and false
// for none of them. A file that cannot be read matches nothing.
func (f *Files) Check(given string) (string, bool) {
	if given == "" {
		return "", false
	}
	for _, name := range []string{Admin, ReadOnly} {
		if v := f.current(name); v != "" && subtle.ConstantTimeCompare([]byte(given), []byte(v)) == 1 {
			return name, true
		}
	}
	return "", false
}

// current returns the token name, read again if its file changed.
func (f *Files) current(name string) string {
	path := filepath.Join(f.Dir, FileName(name))
	st, err := os.Stat(path)
	if err != nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ino uint64
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		ino = sys.Ino
	}
	if c, ok := f.tok[name]; ok && c.mod.Equal(st.ModTime()) && c.size == st.Size() && c.ino == ino {
		return c.value
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if f.tok == nil {
		f.tok = map[string]cached{}
	}
	v := strings.TrimSpace(string(b))
	f.tok[name] = cached{value: v, mod: st.ModTime(), size: st.Size(), ino: ino}
	return v
}
