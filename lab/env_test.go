package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// testEnv returns an Env that t's end closes, its files in t.TempDir().
func testEnv(t testing.TB) *Env {
	t.Helper()
	e, err := New(context.Background(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// check fails t on err; a missing prerequisite skips it instead, or
// fails it under CI (testenv.Missing), as lab/labtest does.
func check(t testing.TB, err error) {
	t.Helper()
	var m *MissingError
	switch {
	case errors.As(err, &m):
		testenv.Missing(t, m.Error())
	case err != nil:
		t.Fatal(err)
	}
}

func TestEnvClose(t *testing.T) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for i := range 3 {
		e.Defer(func() { order = append(order, i) })
	}
	dir, err := e.TempDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[2 1 0]" {
		t.Errorf("cleanups ran in order %v, want last first", order)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the Env's own temporary directory is still there: %v", err)
	}
	e.Defer(func() { order = append(order, 3) })
	if fmt.Sprint(order) != "[2 1 0 3]" {
		t.Errorf("a cleanup deferred after Close did not run at once: %v", order)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestEnvKeepsCallersDir: a TempDir given in Options is the caller's.
func TestEnvKeepsCallersDir(t *testing.T) {
	root := t.TempDir()
	e, err := New(context.Background(), Options{TempDir: root})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := os.Stat(root); err != nil {
		t.Errorf("Close removed the caller's directory: %v", err)
	}
}

// TestEnvStopsProcs: cancelling an Env's context stops what it started,
// and so does Close.
func TestEnvStopsProcs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Missing(t, "sleep is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := New(ctx, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.start("a", 0, sleep, "600")
	check(t, err)
	cancel()
	if err := a.Wait(2 * stopGrace); err == nil {
		t.Error("sleep 600 exited with status 0 after its context ended")
	}
	e = testEnv(t)
	b, err := e.start("b", 0, sleep, "600")
	check(t, err)
	e.Close()
	if err := b.Wait(time.Second); err == nil {
		t.Error("sleep 600 exited with status 0 after Close")
	}
	if got := e.Procs(); len(got) != 1 || got[0] != b {
		t.Errorf("Procs = %v, want [b]", got)
	}
}

func TestMissingError(t *testing.T) {
	_, err := needCommand("provision-lab-no-such-program", "provision-lab-pkg")
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("needCommand: %v, not ErrMissing", err)
	}
	var m *MissingError
	if !errors.As(fmt.Errorf("booting: %w", err), &m) || m.Fix != "apt-get install provision-lab-pkg" {
		t.Fatalf("errors.As: %v", err)
	}
	qemu := &MissingError{Reason: "qemu-system-x86_64 is not installed", Fix: "apt-get install qemu-system-x86"}
	if got, want := qemu.Error(), "lab: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(errors.New("other"), ErrMissing) {
		t.Error("any error is ErrMissing")
	}
}
