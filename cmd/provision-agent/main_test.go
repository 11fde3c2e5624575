package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/inventory"
)

// TestOnceStatic builds the agent as the boot environment carries it
// (CGO_ENABLED=0) and runs --once here: the JSON has this machine's
// physical NICs, as /sys/class/net lists them, and its boot mode.
func TestOnceStatic(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "provision-agent")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command("file", bin).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Errorf("not static: %s", out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "--once", "--lldp-wait", "0", "--ipmi-device", "-", "--mac", "01-52-54-00-AB-CD-EF")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("--once: %v\n%s", err, stderr.String())
	}
	var inv inventory.Inventory
	if err := inventory.Decode(&stdout, &inv); err != nil {
		t.Fatalf("--once printed no inventory: %v", err)
	}
	var got, want []string
	for _, n := range inv.NICs {
		got = append(got, n.Name+" "+n.MAC)
	}
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join("/sys/class/net", e.Name(), "device")); err != nil {
			continue
		}
		mac, _ := os.ReadFile(filepath.Join("/sys/class/net", e.Name(), "address"))
		want = append(want, e.Name()+" "+strings.TrimSpace(string(mac)))
	}
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("NICs (-/sys/class/net +inventory):\n%s", d)
	}
	mode := inventory.BootBIOS
	if _, err := os.Stat("/sys/firmware/efi"); err == nil {
		mode = inventory.BootUEFI
	}
	if inv.BootMode != mode || inv.MAC != "52:54:00:ab:cd:ef" || inv.CPU.Threads == 0 || inv.MemoryMiB == 0 {
		t.Errorf("boot mode %q, MAC %q, %d threads, %d MiB: want %s, 52:54:00:ab:cd:ef, and some CPU and memory", inv.BootMode, inv.MAC, inv.CPU.Threads, inv.MemoryMiB, mode)
	}
}

// TestKernelCommandLine: the server, MAC and token come from the kernel
// command line when no flag gives them, and --no-power prints the
// appliance's poweroff instead of doing it.
func TestKernelCommandLine(t *testing.T) {
	var rep inventory.Report
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/discovery/inventory" || inventory.Decode(r.Body, &rep) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(inventory.Instruction{Action: inventory.ActionPowerOff})
	}))
	defer srv.Close()
	cmdline := filepath.Join(t.TempDir(), "cmdline")
	text := "console=ttyS0 provision.server=" + srv.URL + " provision.mac=52:54:00:12:34:56 provision.inspect=tok quiet\n"
	if err := os.WriteFile(cmdline, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--cmdline", cmdline, "--no-power", "--lldp-wait", "0", "--ipmi-device", "-"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if stdout.String() != "poweroff\n" {
		t.Errorf("stdout %q, want the poweroff printed", stdout.String())
	}
	if rep.Token != "tok" || rep.Inventory.MAC != "52:54:00:12:34:56" {
		t.Errorf("report token %q MAC %q", rep.Token, rep.Inventory.MAC)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--cmdline", "/nonexistent", "--mac", "52:54:00:12:34:56"},
		{"--cmdline", "/nonexistent", "--server", "http://127.0.0.1:1"},
		{"--cmdline", "/nonexistent", "--server", "http://127.0.0.1:1", "--mac", "nope"},
		{"--bogus"},
		{"extra"},
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}
