package cdb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/provision/provision/internal/testenv"
)

// TestTinyCDB checks files from Writer against Debian's tinycdb: `cdb -d`
// must list every record in insertion order, and `cdb -c` fed that dump
// must write the very same bytes.
func TestTinyCDB(t *testing.T) {
	bin := testenv.NeedCommand(t, "cdb")
	rng := rand.New(rand.NewPCG(3, 4))
	recs := append(randomRecords(rng, 500), kv{"\000%\300\000\002", "in"}, kv{"k\n->+1,2:", "\n"})
	ours := build(t, recs)
	dir := t.TempDir()
	path := filepath.Join(dir, "data.cdb")
	if err := os.WriteFile(path, ours, 0o644); err != nil {
		t.Fatal(err)
	}
	dump, err := exec.Command(bin, "-d", path).Output()
	if err != nil {
		t.Fatalf("cdb -d: %v", err)
	}
	got, err := parseDump(dump)
	if err != nil {
		t.Fatalf("parse cdb -d output: %v", err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Fatalf("cdb -d (-want +got):\n%s", diff)
	}
	theirs := filepath.Join(dir, "tinycdb.cdb")
	create := exec.Command(bin, "-c", theirs)
	create.Stdin = bytes.NewReader(dump)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("cdb -c: %v: %s", err, out)
	}
	want, err := os.ReadFile(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(ours, want); i >= 0 {
		t.Errorf("Writer output differs from cdb -c at offset %d", i)
	}
}

// parseDump decodes `+klen,dlen:key->data\n` lines ending with an empty line.
func parseDump(b []byte) ([]kv, error) {
	var recs []kv
	for len(b) > 0 && b[0] == '+' {
		klen, rest, err := dumpNumber(b[1:], ',')
		if err != nil {
			return nil, err
		}
		dlen, rest, err := dumpNumber(rest, ':')
		if err != nil {
			return nil, err
		}
		if len(rest) < klen+2+dlen+1 || string(rest[klen:klen+2]) != "->" || rest[klen+2+dlen] != '\n' {
			return nil, fmt.Errorf("record %d: malformed", len(recs))
		}
		recs = append(recs, kv{string(rest[:klen]), string(rest[klen+2 : klen+2+dlen])})
		b = rest[klen+2+dlen+1:]
	}
	if string(b) != "\n" {
		return nil, fmt.Errorf("after %d records: trailing %q", len(recs), b)
	}
	return recs, nil
}

func dumpNumber(b []byte, sep byte) (int, []byte, error) {
	i := bytes.IndexByte(b, sep)
	if i < 0 {
		return 0, nil, fmt.Errorf("missing %q", sep)
	}
	n, err := strconv.Atoi(string(b[:i]))
	return n, b[i+1:], err
}
