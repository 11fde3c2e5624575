package console

// A Ring keeps one system's console on disk, bounded: at most max bytes
// in two files in its directory, NAME.log (being written) and NAME.log.1
// (the older half). Each line is one record; the records completed by one
// Write go to disk with one write, so no line is split across writes:
//
//	length uint32 | time int64 (Unix ns) | crc32c uint32 | text (length bytes)
//
// all big-endian, the CRC (Castagnoli) over length, time and text. A torn
// last record (a crash mid-write) fails its length or CRC and is skipped.
// Nothing from the machine is interpreted: bytes in, bytes out.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultMax is a Ring's size when OpenRing is given 0.
	DefaultMax = 1 << 20
	// MinMax is the smallest size a Ring accepts.
	MinMax = 16 << 10
	// MaxLine is the longest line kept: a longer one is cut into lines
	// of MaxLine bytes.
	MaxLine = 4 << 10
)

// ErrSystemName is returned for a system name that cannot name a file.
var ErrSystemName = errors.New("invalid system name")

// Line is one console line: the time its first byte arrived and its raw
// bytes without the line end (\n, \r\n or a lone \r).
type Line struct {
	At   time.Time
	Text []byte
}

// Ring is one system's console on disk: at most max bytes (default 1 MiB)
// in two files (NAME.log and NAME.log.1), each line with its time. Its
// methods may be called at once from many goroutines (one writer, as the
// lines of two would mix).
type Ring struct {
	mu     sync.RWMutex
	files  *files
	line   partial
	max    int64
	last   time.Time        // the latest stamp: times never go back
	now    func() time.Time // time.Now; tests set it
	buf    []byte           // a record being encoded
	closed bool
}

// OpenRing opens (creating if needed) the console ring of system in dir,
// an existing directory, of at most max bytes (DefaultMax if 0). system must be a registry object
// name: no path separators, no "..". The files are opened through
// os.Root, so a symlink planted in dir is not followed out of it, and
// have mode 0600.
func OpenRing(dir, system string, max int64) (*Ring, error) {
	if err := checkSystem(system); err != nil {
		return nil, err
	}
	if max == 0 {
		max = DefaultMax
	}
	if max < MinMax {
		return nil, fmt.Errorf("console: ring of %d bytes for %s: the least is %d", max, system, MinMax)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	f, lines, err := openFiles(root, system)
	if err != nil {
		root.Close()
		return nil, err
	}
	r := &Ring{files: f, max: max, now: time.Now}
	if len(lines) > 0 {
		r.last = lines[len(lines)-1].At
	}
	return r, nil
}

// checkSystem accepts the names that registry.CheckObjectName accepts,
// less those containing "..".
func checkSystem(s string) error {
	ok := s != "" && len(s) <= 63 && isAlnum(s[0]) && !strings.Contains(s, "..") &&
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
	if !ok {
		return fmt.Errorf("console: system %q: %w (use letters, digits, '.', '_' and '-', no \"..\", at most 63, starting with a letter or digit)", s, ErrSystemName)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Close writes the partial last line, if any, and closes the files.
func (r *Ring) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.buf = r.buf[:0]; r.line.open {
		err = errors.Join(r.store(r.line.end()), r.flush())
	}
	return errors.Join(err, r.files.close(), r.files.root.Close())
}
