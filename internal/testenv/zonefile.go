package testenv

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// CheckZoneFile has nsd-checkzone (path nsd) and named-checkzone (path
// bind) load the zone origin from the zone file path: either's error, or
// any warning of named-checkzone (which loads a zone with out-of-zone
// data, "ignoring" it), fails the test.
func CheckZoneFile(t testing.TB, nsd, bind, origin, path string) {
	t.Helper()
	if out, err := exec.Command(nsd, origin, path).CombinedOutput(); err != nil {
		t.Errorf("nsd-checkzone %s: %v\n%s", origin, err, out)
	}
	out, err := exec.Command(bind, "-k", "fail", "-i", "local", origin, path).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !zoneLoaded.MatchString(line) && line != "OK" {
			err = errors.Join(err, errors.New(line))
		}
	}
	if err != nil {
		t.Errorf("named-checkzone %s: %v\n%s", origin, err, out)
	}
}

var zoneLoaded = regexp.MustCompile(`^zone \S+/IN: loaded serial \d+$`)
