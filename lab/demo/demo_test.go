package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

func TestDefaults(t *testing.T) {
	o := Options{}
	if err := o.defaults(); err != nil || o.Accel != "auto" || o.Timeout != 10*time.Minute {
		t.Errorf("zero Options: %+v, %v; want auto and 10m", o, err)
	}
	o = Options{Accel: "tcg", Timeout: time.Minute}
	if err := o.defaults(); err != nil || o.Accel != "tcg" || o.Timeout != time.Minute {
		t.Errorf("set Options changed: %+v, %v", o, err)
	}
	o = Options{Accel: "hvf"}
	if err := o.defaults(); err == nil || !strings.Contains(err.Error(), `--accel "hvf"`) {
		t.Errorf("--accel hvf: %v", err)
	}
}

// TestZonecfg: the zonecfg next to the program serves unless one is
// given; one that is not a static executable is refused with how to
// build one.
func TestZonecfg(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "provision")
	next := filepath.Join(dir, "zonecfg")
	if err := os.WriteFile(next, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Options{Exe: exe}.zonecfg()
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0 go build -o "+next+" ./cmd/zonecfg") {
		t.Errorf("a zonecfg that is no ELF file: %v", err)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	static, err := os.ReadFile("/bin/busybox") // busybox-static: a static ELF executable
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, static, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := (Options{Exe: exe}).zonecfg(); err != nil || got != next {
		t.Errorf("zonecfg() = %q, %v; want %s", got, err, next)
	}
	if got, err := (Options{Exe: exe, Zonecfg: "/bin/busybox"}).zonecfg(); err != nil || got != "/bin/busybox" {
		t.Errorf("zonecfg() with Options.Zonecfg = %q, %v; want /bin/busybox", got, err)
	}
}
