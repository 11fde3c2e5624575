package console

// A Ring keeps one system's console on disk, bounded: at most Max bytes
// in two files in its directory, NAME.log (being written) and NAME.log.1
// (the older half). Each line is one record:
//
//	length uint32 | time int64 (Unix ns) | crc32c uint32 | text (length bytes)
//
// all big-endian, the CRC (Castagnoli) over length, time and text. A torn
// last record (a crash mid-write) fails its length or CRC and is skipped.

import (
	"errors"
	"os"
	"sync"
	"time"
)

// DefaultMax is a Ring's size when OpenRing is given 0.
const DefaultMax = 1 << 20

// MaxLine is the longest line kept: a longer one is cut into lines of MaxLine bytes.
const MaxLine = 4 << 10

// Line is one console line: the time its first byte arrived and its raw
// bytes without the line end (\n, \r\n or a lone \r).
type Line struct {
	At   time.Time
	Text []byte
}

// Ring is one system's console on disk: at most Max bytes (default 1 MiB)
// in two files (NAME.log and NAME.log.1), each line with its time. It is
// safe for one writer and many readers at once.
type Ring struct {
	mu     sync.RWMutex
	root   *os.Root
	system string
	max    int64
	now    func() time.Time
}

// OpenRing opens (creating if needed) the console ring of system in dir.
// system must be a plain file name (a registry object name): no path
// separators, no "..". The files are opened through os.Root, so a symlink
// planted in dir is not followed out of it, and created with mode 0600.
func OpenRing(dir, system string, max int64) (*Ring, error) {
	return nil, errors.New("console: not implemented yet")
}

// Write records raw bytes from the BMC. A line is stamped with the time
// its first byte arrived; a line longer than MaxLine is cut.
func (r *Ring) Write(p []byte) (int, error) { return 0, errors.New("console: not implemented yet") }

// Lines returns the lines that arrived at or after since, oldest first,
// with the partial last line (no line end yet) included.
func (r *Ring) Lines(since time.Time) ([]Line, error) { return nil, nil }

// Tail returns the last n lines, the partial last line included.
func (r *Ring) Tail(n int) ([]Line, error) { return nil, nil }

// Close writes the partial last line, if any, and closes the files.
func (r *Ring) Close() error { return nil }
