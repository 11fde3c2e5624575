package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// provision demo --once, the demo the README's first command
// (./scripts/demo) runs: both VMs get where they should, the live view
// shows it, and it cleans up every namespace it made.
func TestDemoOnce(t *testing.T) {
	defer parallel(t)()
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

// labNamespaces lists the network namespaces the lab makes, but for this
// test process's own: the other tests' labs come and go beside the demo.
func labNamespaces(t *testing.T) string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "pvlab-") && !strings.HasPrefix(l, fmt.Sprintf("pvlab-%d-", os.Getpid())) {
			ns = append(ns, strings.Fields(l)[0])
		}
	}
	return strings.Join(ns, "\n")
}

// Ctrl-C in the middle of the demo removes what it made: namespaces, the
// VMs' QEMU processes, its files.
func TestDemoInterrupted(t *testing.T) {
	defer parallel(t)()
	testenv.NeedRoot(t)
	for _, c := range []string{"qemu-system-x86_64", "ip", "apt-get", "dpkg-deb", "pgrep"} {
		testenv.NeedCommand(t, c)
	}
	before := labNamespaces(t)
	cmd := exec.Command(binary, "demo", "--accel", "tcg")
	var out testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(out.String(), "powered on") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo never powered its VMs on:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if exec.Command("pgrep", "-f", "qemu-system-x86_64.*52:54:00:de:00:01").Run() != nil {
		t.Fatalf("no QEMU for lvs01 while the demo runs:\n%s", out.String())
	}
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("provision demo after Ctrl-C: %v\n%s", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("provision demo still runs a minute after Ctrl-C:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "cleaning up") {
		t.Errorf("no cleanup line:\n%s", out.String())
	}
	if exec.Command("pgrep", "-f", "qemu-system-x86_64.*52:54:00:de:00:0").Run() == nil {
		t.Error("a demo VM's QEMU still runs after the demo ended")
	}
	if after := labNamespaces(t); after != before {
		t.Errorf("namespaces before the demo:\n%s\nafter:\n%s", before, after)
	}
}
