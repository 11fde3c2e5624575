package dnsconf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/provision/provision/dnsconf/cdb"
)

// The data.cdb served is also kept on disk (Config.CDBDir), so that a
// restarted server serves it at once, while its zone's own data.cdb is
// put together in the background (a whole build's takes seconds at
// 100,000 systems). A file is named by the ETag of its version (the
// database's identity and the serial), written whole under another name,
// synced and renamed into place, so that a file of that name is complete;
// the server uses it only for the version whose ETag it bears: after any
// crash, the registry's version has a complete file or none. It writes at
// most one file every CDBPersistEvery, the latest version; a version that
// came later is written when the server stops (Server.Run returns).
//
// Once written, the file also holds the records of the version's data.cdb
// parts for the server: they are read from it (cdbPart.records) and no
// longer kept in memory, about two thirds of data.cdb's size. The file
// stays open while a part refers to it, after the next version's file
// replaced it too.

// CDBPersistEvery is how often at most the data.cdb on disk is replaced.
const CDBPersistEvery = 2 * time.Second

// cdbFileName is the file of z's version: its ETag and what else makes
// its records (the Options but the serial: the origin, the name server's
// address, the TTL, static records), or "" for an ETag that cannot name
// a file.
func cdbFileName(z *Zone) string {
	tag := strings.Trim(z.ETag(), `"`)
	if tag == "" || strings.ContainsAny(tag, `/\.`+"\x00") {
		return ""
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s %s %d %d %s\n", z.origin, z.opts.NS, z.opts.ttl(), z.opts.SerialBase, z.inst)
	for _, rr := range z.opts.Static {
		fmt.Fprintln(h, rr.String())
	}
	return fmt.Sprintf("data-%s-%016x.cdb", tag, h.Sum64())
}

// diskCDB is a data.cdb file kept from an earlier run, for one version.
type diskCDB struct {
	etag string
	f    *os.File
	size int64
	at   time.Time
}

// openDiskCDB opens the file of z's version in dir, if there is one and
// its size is what its header says: the end of its last table.
func openDiskCDB(dir string, z *Zone) (*diskCDB, error) {
	name := cdbFileName(z)
	if dir == "" || name == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", f.Name())
	}
	if err == nil {
		err = checkCDBSize(f, st.Size())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &diskCDB{etag: z.ETag(), f: f, size: st.Size(), at: st.ModTime()}, nil
}

// checkCDBSize: the file is as long as its header says (the end of its
// last non-empty table, or of its records if every table is empty).
func checkCDBSize(r io.ReaderAt, size int64) error {
	var h [cdb.HeaderSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("data.cdb header: %w", err)
	}
	end := int64(cdb.HeaderSize)
	for i := 0; i < 256; i++ {
		pos, n := binary.LittleEndian.Uint32(h[8*i:]), binary.LittleEndian.Uint32(h[8*i+4:])
		end = max(end, int64(pos)+8*int64(n))
	}
	if end != size {
		return fmt.Errorf("data.cdb of %d bytes, its header says %d", size, end)
	}
	return nil
}

// cdbPersister writes the latest zone's data.cdb to dir.
type cdbPersister struct {
	dir     string
	log     interface{ Warn(string, ...any) }
	mu      sync.Mutex
	latest  *Zone
	written string // the ETag on disk
	wake    chan struct{}
	kept    func(bytes int64) // Config.Kept
}

func newCDBPersister(dir string, log interface{ Warn(string, ...any) }) *cdbPersister {
	return &cdbPersister{dir: dir, log: log, wake: make(chan struct{}, 1)}
}

// offer makes z the version to write next.
func (p *cdbPersister) offer(z *Zone) {
	p.mu.Lock()
	p.latest = z
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run writes the latest version offered, at most one every
// CDBPersistEvery, until ctx ends; then the latest, if it is not on disk.
func (p *cdbPersister) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			p.flush()
			return
		case <-p.wake:
		}
		p.flush()
		select {
		case <-ctx.Done():
			p.flush()
			return
		case <-time.After(CDBPersistEvery):
		}
	}
}

// flush writes the latest version, unless it is on disk already.
func (p *cdbPersister) flush() {
	p.mu.Lock()
	z := p.latest
	p.mu.Unlock()
	if z == nil || z.ETag() == p.written {
		return
	}
	if err := p.write(z); err != nil {
		p.log.Warn("dns: data.cdb not kept on disk: a restart serves it only once the zone is built", "dir", p.dir, "serial", z.Serial(), "err", err)
		return
	}
	p.written = z.ETag()
}

// write puts z's data.cdb in dir under its version's name, whole or not
// at all, and removes the other versions' files. Then the records of the
// data.cdb's parts are read from it.
func (p *cdbPersister) write(z *Zone) error {
	name := cdbFileName(z)
	if name == "" {
		return fmt.Errorf("ETag %s names no file", z.ETag())
	}
	f, _, err := z.dataCDB()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(p.dir, ".data-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	_, err = io.Copy(tmp, f.reader())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	final := filepath.Join(p.dir, name)
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err == nil {
		err = syncDir(p.dir)
	}
	if err != nil {
		return err
	}
	if kept, err := os.Open(final); err == nil {
		if st, err := kept.Stat(); err == nil && st.Size() == f.size() {
			if freed := f.keepOnDisk(kept); p.kept != nil && freed > 0 {
				p.kept(freed)
			}
		} else {
			kept.Close()
		}
	}
	old, _ := filepath.Glob(filepath.Join(p.dir, "data-*.cdb"))
	stale, _ := filepath.Glob(filepath.Join(p.dir, ".data-*.tmp")) // of a run that crashed
	for _, o := range append(old, stale...) {
		if filepath.Base(o) != name && o != tmp.Name() {
			os.Remove(o)
		}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
