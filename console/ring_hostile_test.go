package console

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenRingRefusesNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "../x", "a/b", "/etc/passwd", `a\b`, "x..y", ".hidden", "-x",
		"a\x00b", "a b", "a\nb", "ü", strings.Repeat("a", 64)} {
		dir := t.TempDir()
		r, err := OpenRing(filepath.Join(dir, "ring"), name, 0)
		if err == nil {
			r.Close()
		}
		if !errors.Is(err, ErrSystemName) {
			t.Errorf("OpenRing(%q): %v, want ErrSystemName", name, err)
		}
	}
	for _, name := range []string{"vm", "web-01.lab_x", strings.Repeat("a", 63)} {
		r, err := OpenRing(t.TempDir(), name, 0)
		if err != nil {
			t.Errorf("OpenRing(%q): %v", name, err)
			continue
		}
		r.Close()
	}
}

// TestRingSymlinks plants symlinks named like the ring's files, pointing
// out of its directory: opening refuses them and the target is untouched.
func TestRingSymlinks(t *testing.T) {
	for _, planted := range []string{"vm.log", "vm.log.1"} {
		for _, absolute := range []bool{false, true} {
			outside := t.TempDir()
			target := filepath.Join(outside, "secret")
			if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			link := target
			if !absolute {
				link, _ = filepath.Rel(dir, target)
			}
			if err := os.Symlink(link, filepath.Join(dir, planted)); err != nil {
				t.Fatal(err)
			}
			r, err := OpenRing(dir, "vm", 0)
			if err == nil {
				write(t, r, "written\n")
				r.Close()
				t.Errorf("%s -> %s: OpenRing followed it", planted, link)
			}
			if b, _ := os.ReadFile(target); string(b) != "keep\n" {
				t.Errorf("%s -> %s: the target now holds %q", planted, link, b)
			}
		}
	}
}

// TestRingTornRecord cuts NAME.log in the middle of its last record (a
// crash mid-write) or spoils a byte of it: the reader skips that record
// without an error, and writing goes on after the last whole one.
func TestRingTornRecord(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(path string, size int64) error
	}{
		{"cut in the text", func(p string, n int64) error { return os.Truncate(p, n-2) }},
		{"cut in the header", func(p string, n int64) error { return os.Truncate(p, n-int64(len("three"))-headerLen+3) }},
		{"a byte changed", func(p string, n int64) error { return flipByte(p, n-1) }},
		{"garbage after", func(p string, n int64) error { return appendFile(p, "\x00\x00\x00\x05garbage") }},
		{"a huge length after", func(p string, n int64) error { return appendFile(p, "\xff\xff\xff\xff0123456789abcdef") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r, err := OpenRing(dir, "vm", 0)
			if err != nil {
				t.Fatal(err)
			}
			write(t, r, "one\ntwo\nthree\n")
			r.Close()
			path := filepath.Join(dir, "vm.log")
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.spoil(path, fi.Size()); err != nil {
				t.Fatal(err)
			}
			r, err = OpenRing(dir, "vm", 0)
			if err != nil {
				t.Fatalf("opening after a torn write: %v", err)
			}
			defer r.Close()
			write(t, r, "four\n")
			got, err := r.Lines(time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"one", "two", "four"}
			if tc.name == "garbage after" || tc.name == "a huge length after" {
				want = []string{"one", "two", "three", "four"}
			}
			if d := cmp.Diff(want, texts(got)); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
		})
	}
}

func flipByte(path string, at int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		return err
	}
	_, err = f.WriteAt([]byte{b[0] ^ 0x20}, at)
	return err
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s)
	return errors.Join(err, f.Close())
}

// FuzzDecodeRecords: no bytes on disk make the reader fail or panic, and
// what it decodes encodes back to the same bytes.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(appendRecord(nil, Line{At: epoch, Text: []byte("hello")}))
	f.Add([]byte("\x00\x00\x10\x01 too long"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, valid := decodeRecords(b)
		var again []byte
		for _, l := range lines {
			again = appendRecord(again, l)
		}
		if string(again) != string(b[:valid]) {
			t.Errorf("decoded %d records that encode to %q, not %q", len(lines), again, b[:valid])
		}
	})
}

// TestRingConcurrent writes while readers read (run with -race): every
// reader sees whole lines in time order.
func TestRingConcurrent(t *testing.T) {
	r, _ := openTest(t, MinMax)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				lines, err := r.Tail(50)
				if err != nil {
					t.Error(err)
					return
				}
				checkOrder(t, lines)
				for _, l := range lines {
					if s := string(l.Text); strings.Trim(s, "x") != "" {
						t.Errorf("a reader saw %q", s)
						return
					}
				}
			}
		})
	}
	for i := range 5000 {
		write(t, r, strings.Repeat("x", i%200), "\n")
	}
	close(stop)
	wg.Wait()
}
