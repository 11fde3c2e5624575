package cdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenMappedAsOpen: on djbdns's files and on random ones, a Reader of
// OpenMapped has the records, the lookups and the count of one of Open.
func TestOpenMappedAsOpen(t *testing.T) {
	files := goldenFiles(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 7, 1000} {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("random%d.cdb", n))
		if err := os.WriteFile(p, build(t, randomRecords(rng, n)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, p := range files {
		t.Run(filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p), func(t *testing.T) {
			want, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenMapped(p)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			recs := all(t, want)
			if diff := cmp.Diff(recs, all(t, got)); diff != "" {
				t.Fatalf("ForEach (-Open +OpenMapped):\n%s", diff)
			}
			if got.Len() != want.Len() {
				t.Errorf("Len %d, Open's %d", got.Len(), want.Len())
			}
			checkLookups(t, got, recs)
			for _, rec := range recs {
				if _, err := got.Find([]byte(rec.Key)); err != nil {
					t.Fatalf("Find(%q): %v", rec.Key, err)
				}
			}
		})
	}
}

// TestOpenMappedCorrupt: each corruption New refuses is refused by
// OpenMapped at open, or by Find or ForEach when they reach it: an error
// wrapping ErrCorrupt that names the file or the record, never a panic
// or a wrong answer given as right.
func TestOpenMappedCorrupt(t *testing.T) {
	good := goodFile(t)
	for _, tc := range corruptions(good) {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.patch(append([]byte(nil), good...))
			p := filepath.Join(t.TempDir(), "data.cdb")
			os.WriteFile(p, b, 0o644)
			r, err := OpenMapped(p)
			if err == nil {
				defer r.Close()
				_, errA := r.Find([]byte("a"))
				errEach := r.ForEach(func(_, _ []byte) error { return nil })
				err = errors.Join(errA, errEach)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("OpenMapped, Find and ForEach: %v, want ErrCorrupt", err)
			}
		})
	}
}
