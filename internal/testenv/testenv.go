// Package testenv decides what a test does when a prerequisite is missing:
// on a developer's laptop it skips with the reason, but under CI=true it
// fails, because CI installs everything the suite needs (.ci/run) and a
// skip there would hide a missing install step.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test, or fails it under CI, with the reason given.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("prerequisite missing under CI=true: %s", reason)
	}
	t.Skipf("skipping: %s", reason)
}

// NeedCommand returns the path of the named program, or calls Missing.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is not installed")
	}
	return p
}

// NeedRoot calls Missing unless the test runs as root (network namespaces,
// privileged ports, tap devices).
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root")
	}
}

// Serve runs serve (a server's Serve loop) in the background until the
// test ends: then it cancels serve's context and reports an error serve
// returns.
func Serve(t testing.TB, serve func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}
