package labtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/provision/provision/lab"
)

// recorder is a testing.TB that records how a test would have ended:
// its Skipf and Fatalf return, so only the first ending counts.
type recorder struct {
	testing.TB
	ended string // "skip: ...", "fatal: ..." or ""
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skipf(f string, a ...any)  { r.end("skip: " + fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.end("fatal: " + fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(a ...any)            { r.end("fatal: " + fmt.Sprint(a...)) }

func (r *recorder) end(how string) {
	if r.ended == "" {
		r.ended = how
	}
}

// TestCheck: a missing prerequisite skips, or fails under CI=true; any
// other error fails; nil goes on.
func TestCheck(t *testing.T) {
	missing := fmt.Errorf("booting: %w", &lab.MissingError{Reason: "qemu-system-x86_64 is not installed", Fix: "apt-get install qemu-system-x86"})
	for _, tc := range []struct {
		name, ci string
		err      error
		want     string // prefix of recorder.ended
	}{
		{"missing", "", missing, "skip: skipping: lab: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"},
		{"missing under CI", "true", missing, "fatal: prerequisite missing under CI=true: lab: qemu-system-x86_64"},
		{"other error", "", errors.New("lab: bad MAC"), "fatal: lab: bad MAC"},
		{"other error under CI", "true", errors.New("lab: bad MAC"), "fatal: lab: bad MAC"},
		{"nil", "true", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			check(r, tc.err)
			if !strings.HasPrefix(r.ended, tc.want) || (tc.want == "") != (r.ended == "") {
				t.Errorf("check(%v) with CI=%q ended %q, want %q", tc.err, tc.ci, r.ended, tc.want)
			}
		})
	}
}
