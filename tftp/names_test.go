package tftp

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode"
)

// A name that is not a loader's canonical config name makes no config and
// names no host, and what is reported (for a host's timeline, the log)
// carries no control character: a client cannot write escape sequences
// into a system's events.
func TestReportedNamesAreSafe(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServer(t, root, testHosts)
	for _, name := range []string{
		"\x1b[2J\x1b[H/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
		"x\r\nINSTALLED/pxelinux.cfg/01-aa-bb-cc-dd-ee-ff",
		"/grub/grub.cfg-01-aa-bb-cc-dd-ee-ff\x1b]0;owned\x07",
		"\x9b31mundionly.kpxe",
	} {
		reply := ts.request(t, opRRQ, name, "octet")
		if got := errorCode(reply); got != errNotFound {
			t.Errorf("%q: reply %q, want error %d", name, reply, errNotFound)
		}
		ev := ts.event(t)
		if ev.MAC != nil || !errors.Is(ev.Err, fs.ErrNotExist) {
			t.Errorf("%q: event %+v, want no MAC, not found", name, ev)
		}
		if strings.ContainsFunc(ev.File, unicode.IsControl) {
			t.Errorf("%q: reported as %q, with control characters", name, ev.File)
		}
	}
}
