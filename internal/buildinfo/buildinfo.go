// Package buildinfo says which build of a program is running: the
// version and commit set at build time (go build -ldflags "-X
// main.version=1.2.3 -X main.commit=abc123"), else those of Go's build
// information (module version, VCS revision and time, which
// -buildvcs=false leaves out), else "dev" and "unknown". It imports no
// product package.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// String is "PROGRAM VERSION (commit C, DATE, GOVERSION)"; version and
// commit are the build's own when set ("" otherwise), a commit changed
// since is marked +changes.
func String(program, version, commit string) string {
	v, rev, date, dirty := version, commit, "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if rev == "" {
		rev = "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+changes"
	}
	parts := []string{"commit " + rev}
	if date != "" {
		parts = append(parts, date)
	}
	parts = append(parts, runtime.Version())
	return fmt.Sprintf("%s %s (%s)", program, v, strings.Join(parts, ", "))
}
