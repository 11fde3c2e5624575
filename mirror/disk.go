package mirror

import (
	"crypto/rand"
	"io/fs"
	"math"
	"os"
	"path"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// entry is one file the cache holds: its archive and size.
type entry struct {
	archive string
	size    int64
}

// disk is the cache directory: files opened only through an os.Root (no
// path, symlink or ".." leaves Dir), accounted in one LRU bounded by bytes
// rather than by count. Keys are slash paths inside Dir.
type disk struct {
	root     *os.Root
	max      int64
	counters func(archive string) *counters // nil for an archive no longer configured

	mu    sync.Mutex
	lru   *simplelru.LRU[string, entry]
	bytes int64
}

func newDisk(root *os.Root, max int64, counters func(string) *counters) *disk {
	lru, _ := simplelru.NewLRU[string, entry](math.MaxInt, nil) // only fails for a size <= 0
	return &disk{root: root, max: max, counters: counters, lru: lru}
}

// add accounts key (already in place on disk) as the most recently used
// file, then evicts the least recently used ones while over the bound.
func (d *disk) add(key string, e entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old, had := d.lru.Peek(key)
	d.lru.Add(key, e)
	d.bytes += e.size - old.size
	if had {
		d.count(old.archive, -old.size, -1)
	}
	d.count(e.archive, e.size, 1)
	for d.bytes > d.max {
		d.evictOldest()
	}
}

// evictOldest removes the least recently used file; a client still
// reading it keeps its open descriptor. d.mu is held.
func (d *disk) evictOldest() {
	key, e, ok := d.lru.RemoveOldest()
	if !ok {
		return
	}
	d.bytes -= e.size
	d.count(e.archive, -e.size, -1)
	if c := d.counters(e.archive); c != nil {
		c.evictions.Add(1)
	}
	d.root.Remove(key)
}

func (d *disk) count(archive string, size, files int64) {
	if c := d.counters(archive); c != nil {
		c.stored(size, files)
	}
}

// touch marks key as just used, in memory and in its mtime (which New
// orders the LRU by); false if the cache does not hold it.
func (d *disk) touch(key string) bool {
	d.mu.Lock()
	_, ok := d.lru.Get(key)
	d.mu.Unlock()
	if ok {
		now := time.Now()
		d.root.Chtimes(key, now, now)
	}
	return ok
}

// remove forgets key and deletes its file.
func (d *disk) remove(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.lru.Peek(key); ok {
		d.lru.Remove(key)
		d.bytes -= e.size
		d.count(e.archive, -e.size, -1)
	}
	d.root.Remove(key)
}

// open opens a cached regular file and touches it; ok false is a miss.
func (d *disk) open(key string) (*os.File, fs.FileInfo, bool) {
	if !d.touch(key) {
		return nil, nil, false
	}
	f, err := d.root.Open(key)
	if err != nil {
		d.remove(key) // gone from under the cache: fetch it again
		return nil, nil, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, false
	}
	return f, fi, true
}

// tempPrefix names the files being written; New removes leftovers.
const tempPrefix = ".tmp-"

// create makes a new temporary file at the top of Dir.
func (d *disk) create() (*os.File, string, error) {
	name := tempPrefix + rand.Text()
	f, err := d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	return f, name, err
}

// commit closes the temporary file tmp and renames it to key (atomic: a
// reader sees the old file or the whole new one), then accounts it.
func (d *disk) commit(f *os.File, tmp, key string, e entry) error {
	err := f.Close()
	if err == nil {
		err = d.root.MkdirAll(path.Dir(key), 0o750)
	}
	if err == nil {
		err = d.root.Rename(tmp, key)
	}
	if err != nil {
		d.root.Remove(tmp)
		return err
	}
	d.add(key, e)
	return nil
}

// discard drops a temporary file that will not be committed.
func (d *disk) discard(f *os.File, tmp string) {
	f.Close()
	d.root.Remove(tmp)
}

// write stores b at key through a temporary file.
func (d *disk) write(key string, e entry, b []byte) error {
	f, tmp, err := d.create()
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		d.discard(f, tmp)
		return err
	}
	return d.commit(f, tmp, key, e)
}

// has reports whether the cache holds key, without touching it.
func (d *disk) has(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lru.Contains(key)
}
