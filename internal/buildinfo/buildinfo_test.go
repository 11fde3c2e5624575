package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

// Values set at build time win; the Go version is always there.
func TestString(t *testing.T) {
	got := String("provision", "1.2.3", "0123456789abcdef")
	if !strings.HasPrefix(got, "provision 1.2.3 (commit 0123456789ab") || !strings.HasSuffix(got, runtime.Version()+")") {
		t.Errorf("String = %q", got)
	}
	if got := String("zonecfg", "", ""); !strings.HasPrefix(got, "zonecfg ") || !strings.Contains(got, "commit ") {
		t.Errorf("String without build values = %q", got)
	}
}
