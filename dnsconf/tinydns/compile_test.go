package tinydns

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// goldenDir holds data files, the data.cdb djbdns 1.05 tinydns-data wrote
// from each, and the data file's mtime at the time (serial).
const goldenDir = "../testdata/tinydns"

// goldenVectors returns the names of the vector folders (t1, t2, ...).
func goldenVectors(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "t*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no vectors under %s: %v", goldenDir, err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Base(d)
	}
	return dirs
}

func readGolden(t testing.TB, vector, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, vector, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenSerial returns the SOA serial tinydns-data used for a vector.
func goldenSerial(t testing.TB, vector string) uint32 {
	t.Helper()
	s := strings.TrimSpace(string(readGolden(t, vector, "serial")))
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		t.Fatalf("%s/serial: %v", vector, err)
	}
	return uint32(n)
}

func TestCompileGolden(t *testing.T) {
	for _, v := range goldenVectors(t) {
		t.Run(v, func(t *testing.T) {
			var got bytes.Buffer
			if err := Compile(bytes.NewReader(readGolden(t, v, "data")), goldenSerial(t, v), &got); err != nil {
				t.Fatalf("Compile: %v", err)
			}
			want := readGolden(t, v, "data.cdb")
			if i := firstDiff(got.Bytes(), want); i >= 0 {
				t.Fatalf("data.cdb differs from tinydns-data's at offset %d (len %d, want %d)", i, got.Len(), len(want))
			}
		})
	}
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestCompileNothingOnError(t *testing.T) {
	var out bytes.Buffer
	err := Compile(bytes.NewReader([]byte("+a.example:1.2.3.4\n!bad\n")), 1, &out)
	if err == nil {
		t.Fatal("Compile of a bad file succeeded")
	}
	if out.Len() != 0 {
		t.Errorf("Compile wrote %d bytes before failing", out.Len())
	}
}
