package main

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// provision demo --once, as the README's first command runs it: both VMs
// get where they should, the live view shows it, and it cleans up every
// namespace it made.
func TestDemoOnce(t *testing.T) {
	testenv.NeedRoot(t)
	for _, c := range []string{"qemu-system-x86_64", "ip", "apt-get", "dpkg-deb"} {
		testenv.NeedCommand(t, c)
	}
	before := labNamespaces(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	start := time.Now()
	// TCG, as the rest of the suite: KVM on these hosts is unreliable.
	out, err := exec.CommandContext(ctx, binary, "demo", "--once", "--accel", "tcg").CombinedOutput()
	t.Logf("provision demo --once: %.1fs", time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("provision demo --once: %v\n%s", err, out)
	}
	for _, want := range []string{
		`accelerator: tcg \(--accel\)`,
		`lvs01 +rootfs fetched`,
		`lvs01 +switched`,
		`lvs01 +booted`,
		`lvs01 \| keepalived\.conf: +virtual_router_id 100`,
		`lvs01 \| keepalived\.conf: +# 192\.168\.0\.0/20`,
		`web01 is installed`,
		`web01 booted from its disk`,
		`the demo went as expected`,
		`cleaning up`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("the demo's output lacks %q:\n%s", want, out)
		}
	}
	if after := labNamespaces(t); after != before {
		t.Errorf("namespaces before the demo:\n%s\nafter:\n%s", before, after)
	}
}

// labNamespaces lists the network namespaces the lab makes.
func labNamespaces(t *testing.T) string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "pvlab-") {
			ns = append(ns, strings.Fields(l)[0])
		}
	}
	return strings.Join(ns, "\n")
}
