package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// archive writes a backup of a registry file, a blob and a secret.
func archive(t *testing.T) ([]byte, string) {
	t.Helper()
	src := t.TempDir()
	blob := []byte("a kernel, say")
	sum := sha256.Sum256(blob)
	digest := hex.EncodeToString(sum[:])
	files := map[string][]byte{"registry.db": []byte("SQLite format 3\x00..."), "blob": blob, "key": []byte("k3y")}
	for name, b := range files {
		os.WriteFile(filepath.Join(src, name), b, 0o600)
	}
	var buf bytes.Buffer
	_, err := Write(&buf, Manifest{Created: time.Now(), Appliance: "a", Secrets: true}, []Entry{
		{Path: "registry.db", Source: filepath.Join(src, "registry.db")},
		{Path: "images/sha256/" + digest[:2] + "/" + digest, Source: filepath.Join(src, "blob")},
		{Path: "secret.key", Source: filepath.Join(src, "key"), Secret: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), digest
}

func TestRoundTrip(t *testing.T) {
	b, digest := archive(t)
	dir := filepath.Join(t.TempDir(), "data")
	m, err := Restore(bytes.NewReader(b), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 || m.Appliance != "a" || !m.Secrets {
		t.Errorf("manifest: %+v", m)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "images/sha256", digest[:2], digest)); string(got) != "a kernel, say" {
		t.Errorf("the blob restored as %q", got)
	}
	if st, err := os.Stat(filepath.Join(dir, "secret.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("secret.key: %v %v, want mode 0600", st.Mode(), err)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("the data directory has mode %v, want 0700", st.Mode().Perm())
	}
	if _, err := Restore(bytes.NewReader(b), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a restore into a data directory in use: %v", err)
	}
}

// An archive cut anywhere before the end of its manifest is refused as
// cut short (after it, only tar's padding is missing: nothing is lost).
func TestCutAnywhere(t *testing.T) {
	good, _ := archive(t)
	end := bytes.LastIndexByte(good, '}') + 1
	for n := 0; n < end; n += 61 {
		if _, err := Restore(bytes.NewReader(good[:n]), filepath.Join(t.TempDir(), "data")); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("cut at %d of %d bytes: %v, want ErrIncomplete", n, len(good), err)
		}
	}
}

// Every damaged archive is refused naming what is wrong, and leaves
// nothing behind: no data directory, no half-restored one beside it.
func TestRefusals(t *testing.T) {
	good, digest := archive(t)
	blobPath := "images/sha256/" + digest[:2] + "/" + digest
	flipped := bytes.Clone(good)
	i := bytes.Index(flipped, []byte("a kernel, say"))
	flipped[i] ^= 1
	evil := func(name string, typ byte) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Mode: 0o644, Size: 0, Linkname: "/etc/passwd"})
		tw.Close()
		return buf.Bytes()
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"cut short":       {good[:len(good)/2], "cut short"},
		"a flipped byte":  {flipped, blobPath + ": sha256"},
		"a path out":      {evil("../../etc/cron.d/x", tar.TypeReg), "outside the data directory"},
		"an absolute one": {evil("/etc/passwd", tar.TypeReg), "outside the data directory"},
		"a symlink":       {evil("registry.db", tar.TypeSymlink), "not a regular file"},
		"no manifest":     {evil("registry.db", tar.TypeReg), "cut short"},
	} {
		parent := t.TempDir()
		dir := filepath.Join(parent, "data")
		_, err := Restore(bytes.NewReader(c.data), dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
		if name == "cut short" && !errors.Is(err, ErrIncomplete) {
			t.Errorf("cut short: %v is not ErrIncomplete", err)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 0 {
			t.Errorf("%s: the refused restore left %v", name, ents)
		}
	}
}
