package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ManifestName is the archive's last entry.
const ManifestName = "provision-backup.json"

// Format is the version of the archive layout.
const Format = 1

// Manifest describes a backup: what it holds and how to check it.
type Manifest struct {
	Format    int       `json:"format"`
	Created   time.Time `json:"created"`
	Appliance string    `json:"appliance"`
	Serial    uint64    `json:"serial"`  // the registry's serial when the backup began (the copy's is at least it)
	Secrets   bool      `json:"secrets"` // secret.key, tokens and the TLS key are in it
	Files     []File    `json:"files"`
}

// File is one file of the archive.
type File struct {
	Path   string `json:"path"` // relative to the data directory, with "/"
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Secret bool   `json:"secret,omitempty"` // restored with mode 0600
}

// Entry is a file to back up: its path in the archive and where to read it.
type Entry struct {
	Path   string
	Source string // a file on disk
	Secret bool
}

// Write writes the entries and then the manifest m (its Files filled in
// here) to w as a tar archive.
func Write(w io.Writer, m Manifest, entries []Entry) (*Manifest, error) {
	tw := tar.NewWriter(w)
	m.Format = Format
	m.Files = nil
	for _, e := range entries {
		f, err := writeFile(tw, e)
		if err != nil {
			return nil, fmt.Errorf("backup: %s: %w", e.Path, err)
		}
		m.Files = append(m.Files, f)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o644, Size: int64(len(b)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(b); err != nil {
		return nil, err
	}
	return &m, tw.Close()
}

func writeFile(tw *tar.Writer, e Entry) (File, error) {
	f, err := os.Open(e.Source)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return File{}, err
	}
	mode := int64(0o644)
	if e.Secret {
		mode = 0o600
	}
	if err := tw.WriteHeader(&tar.Header{Name: e.Path, Mode: mode, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), f)
	if err != nil {
		return File{}, err
	}
	if n != st.Size() {
		return File{}, fmt.Errorf("changed size while it was read (%d, then %d bytes)", st.Size(), n)
	}
	return File{Path: e.Path, Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Secret: e.Secret}, nil
}

// ErrIncomplete: the archive ends before its manifest (a backup that was
// cut short).
var ErrIncomplete = errors.New("the archive ends before its manifest: the backup was cut short")

// Restore extracts the archive from r into dir, which must not exist or
// be empty. Nothing is left in dir unless every file is there and matches
// the manifest.
func Restore(r io.Reader, dir string) (*Manifest, error) {
	dir = filepath.Clean(dir)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("restore: %s is not empty: restore into a new or empty directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".restore-")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp) // renamed away on success
	m, err := extract(r, tmp)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, err
	}
	os.Remove(dir) // empty, or absent
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return m, nil
}

func extract(r io.Reader, dir string) (*Manifest, error) {
	tr := tar.NewReader(r)
	got := map[string]File{}
	var m *Manifest
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrIncomplete
		}
		if err != nil {
			return nil, fmt.Errorf("the archive: %w", err)
		}
		if m != nil {
			return nil, fmt.Errorf("the archive goes on after its manifest (%s)", h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%s: not a regular file (type %q): refused", h.Name, h.Typeflag)
		}
		if h.Name == ManifestName {
			m = new(Manifest)
			b, err := io.ReadAll(io.LimitReader(tr, 64<<20))
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, ErrIncomplete
			}
			if err != nil {
				return nil, fmt.Errorf("the manifest: %w", err)
			}
			if err := json.Unmarshal(b, m); err != nil {
				return nil, fmt.Errorf("the manifest: %w", err)
			}
			continue
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, err
		}
		if _, dup := got[name]; dup {
			return nil, fmt.Errorf("%s: twice in the archive", name)
		}
		f, err := extractFile(tr, dir, name, h.Mode&0o077 == 0)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrIncomplete
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		got[name] = f
	}
	if m == nil {
		return nil, ErrIncomplete
	}
	if m.Format != Format {
		return nil, fmt.Errorf("the backup's format is %d, this provision reads %d", m.Format, Format)
	}
	for _, want := range m.Files {
		f, ok := got[want.Path]
		if !ok {
			return nil, fmt.Errorf("%s: in the manifest, not in the archive", want.Path)
		}
		if f.SHA256 != want.SHA256 || f.Size != want.Size {
			return nil, fmt.Errorf("%s: sha256 %s (%d bytes), the manifest says %s (%d bytes): the archive is damaged", want.Path, f.SHA256, f.Size, want.SHA256, want.Size)
		}
		if blob, ok := strings.CutPrefix(want.Path, "images/sha256/"); ok && path.Base(blob) != f.SHA256 {
			return nil, fmt.Errorf("%s: its content's sha256 is %s", want.Path, f.SHA256)
		}
		delete(got, want.Path)
	}
	if len(got) > 0 {
		var extra []string
		for p := range got {
			extra = append(extra, p)
		}
		slices.Sort(extra)
		return nil, fmt.Errorf("files not in the manifest: %s", strings.Join(extra, ", "))
	}
	if !slices.ContainsFunc(m.Files, func(f File) bool { return f.Path == "registry.db" }) {
		return nil, errors.New("the backup holds no registry.db")
	}
	return m, nil
}

// cleanName refuses a path that would leave the data directory.
func cleanName(name string) (string, error) {
	clean := path.Clean(name)
	if name == "" || path.IsAbs(name) || clean != name || clean == "." || strings.HasPrefix(clean, "../") || clean == ".." || strings.Contains(name, "\\") {
		return "", fmt.Errorf("%q: a path outside the data directory: refused", name)
	}
	return clean, nil
}

// Check reads a whole archive and checks it against its manifest, writing
// nothing.
func Check(r io.Reader) (*Manifest, error) {
	m, err := extract(r, "")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// extractFile writes one file under dir (only hashes it when dir is "").
func extractFile(r io.Reader, dir, name string, secret bool) (File, error) {
	if dir == "" {
		h := sha256.New()
		n, err := io.Copy(h, r)
		return File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
	}
	target := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return File{}, err
	}
	mode := os.FileMode(0o644)
	if secret {
		mode = 0o600
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		return File{}, err
	}
	if err := f.Sync(); err != nil {
		return File{}, err
	}
	return File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}
