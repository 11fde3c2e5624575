// Package images keeps the appliance's image files and serves them over
// HTTP. Files are content-addressed: a file whose sha256 is abcd… lives at
// ROOT/sha256/ab/abcd…, written once through a temporary file, fsynced and
// renamed, so a crash never leaves a partial file under its final name.
//
// BootHandler serves machines booting over HTTP (iPXE), from host data the
// package reads through its Hosts interface:
//
//	GET /boot.ipxe                 iPXE script of the system with the client's IP
//	GET /boot/<mac>.ipxe           iPXE script of the system with that MAC
//	GET /images/<image>/<role>     kernel, initrd or rootfs, with Range and ETag
//	GET /images/<image>/SHA256SUMS "<sha256>  <role>" lines, as sha256sum -c reads
//
// A script loads the image's kernel and initrd from the appliance and passes
// provision.host=, provision.zone= and provision.server= after the profile's
// and system's kernel arguments; with netboot off it exits to the firmware,
// which boots the next device. Every request is reported as a BootEvent.
package images

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/provision/provision/internal/durable"
)

// ErrNotFound: no blob with that digest.
var ErrNotFound = errors.New("images: no such blob")

// Store is a content-addressed file store.
type Store struct {
	root string
}

// NewStore opens (creating) a store rooted at dir.
func NewStore(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "sha256"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
	}
	return &Store{root: dir}, nil
}

// Put copies r into the store and returns its sha256 and size. Storing
// the same content twice is a no-op. If want is not empty, the content
// must hash to it, or nothing is kept.
func (s *Store) Put(r io.Reader, want string) (digest string, size int64, err error) {
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("images: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return "", 0, fmt.Errorf("images: upload: %w", err)
	}
	digest = hex.EncodeToString(h.Sum(nil))
	if want != "" && want != digest {
		return "", 0, fmt.Errorf("images: upload has sha256 %s, the client sent %s", digest, want)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("images: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", 0, fmt.Errorf("images: %w", err)
	}
	final := s.path(digest)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", 0, fmt.Errorf("images: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, fmt.Errorf("images: %w", err)
	}
	return digest, size, syncDir(filepath.Dir(final))
}

// Has reports whether a blob is stored.
func (s *Store) Has(digest string) bool {
	if !validDigest(digest) {
		return false
	}
	_, err := os.Stat(s.path(digest))
	return err == nil
}

// Open opens a blob for reading.
func (s *Store) Open(digest string) (*os.File, error) {
	if !validDigest(digest) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.path(digest))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

func (s *Store) path(digest string) string {
	return filepath.Join(s.root, "sha256", digest[:2], digest)
}

func validDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	_, err := hex.DecodeString(d)
	return err == nil && d == toLower(d)
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

var syncDir = durable.SyncDir

// StoredFile is one file of a Store: its sha256, its path on disk, and
// that path relative to the store's root (sha256/ab/abcd…), as a backup
// names it.
type StoredFile struct {
	Digest, Path, Rel string
}

// List lists every file the store holds, in no set order; files being
// written (under tmp/) are not among them.
func (s *Store) List() ([]StoredFile, error) {
	var out []StoredFile
	err := filepath.WalkDir(filepath.Join(s.root, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !validDigest(d.Name()) {
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		out = append(out, StoredFile{Digest: d.Name(), Path: p, Rel: filepath.ToSlash(rel)})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return out, err
}

// TempDir is the store's folder for files on their way in, on the same
// file system as the store: a backup's scratch copy of the registry goes
// there too.
func (s *Store) TempDir() string { return filepath.Join(s.root, "tmp") }
