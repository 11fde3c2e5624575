package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

// debootstrapThroughCache runs debootstrap --download-only, as the Debian
// installer's base-installer retrieves the base system (its default
// variant), into a new directory from the appliance's cache, in the lab's
// server namespace, whose only way out is the relay: debootstrap checks
// the Release file's signature against Debian's keyring and every
// package's checksum. It returns the packages it fetched.
func (d *debianLab) debootstrapThroughCache(t *testing.T, bin string) []string {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	cmd := d.n.Command(bin, "--download-only", "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
		"--arch=amd64", "bookworm", dir, "http://"+d.n.ServerIP.String()+"/debian")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("debootstrap through the cache: %v\n%s", err, tail(string(out), 3000))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "var/cache/apt/archives/*.deb"))
	t.Logf("debootstrap through the cache: %d packages in %.1fs", len(debs), time.Since(start).Seconds())
	return debs
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// The base system of a Debian install comes through the appliance's
// cache of the real archive: debootstrap (what the installer's
// base-installer runs) fetches and verifies it, the cache's counters and
// the relay agree on what came from upstream; a second debootstrap right
// after fetches nothing from upstream: the packages are cache hits and
// the index files are fresh.
func TestMirrorDebootstrapThroughCache(t *testing.T) {
	defer parallel(t)()
	bin := testenv.NeedCommand(t, "debootstrap")
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "curl")
	if _, err := os.Stat("/usr/share/keyrings/debian-archive-keyring.gpg"); err != nil {
		t.Fatalf("debian-archive-keyring: %v", err)
	}
	d := newMirrorLab(t)
	first := d.debootstrapThroughCache(t, bin)
	fetched := d.up.Fetches()
	if len(first) < 50 || len(debs(fetched)) != len(first) {
		t.Fatalf("first run: %d packages, %d fetched upstream: %s", len(first), len(debs(fetched)), lab.Summary(fetched))
	}
	if misses := d.metric(t, "provision_mirror_misses_total", "debian"); misses < float64(len(first)) {
		t.Errorf("cache misses %v, want at least the %d packages", misses, len(first))
	}
	var bytes int64
	for _, f := range fetched {
		bytes += f.Bytes
	}
	if got := d.metric(t, "provision_mirror_upstream_bytes_total", "debian"); got != float64(bytes) {
		t.Errorf("the cache counted %v bytes from upstream, the relay carried %d", got, bytes)
	}
	t.Logf("first run: upstream %s\n%s", lab.Summary(fetched), d.counters(t, "debian"))

	second := d.debootstrapThroughCache(t, bin)
	again := d.up.Fetches()[len(fetched):]
	if len(second) != len(first) || len(again) != 0 {
		t.Errorf("second run: %d packages, upstream %s", len(second), lab.Summary(again))
	}
	if hits := d.metric(t, "provision_mirror_hits_total", "debian"); hits < float64(len(second)) {
		t.Errorf("cache hits %v, want at least the %d packages", hits, len(second))
	}
	t.Logf("second run: upstream %s\n%s", lab.Summary(again), d.counters(t, "debian"))
	if strings.Contains(d.cli("events", "--system", "mirror"), "mirror-upstream") {
		t.Errorf("upstream failure events: %s", d.cli("events", "--system", "mirror"))
	}
}
