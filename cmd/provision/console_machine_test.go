package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/console"
	"github.com/provision/provision/inventory"
)

// provision console MAC reads and follows a discovered machine's console
// (status under its console name); --attach and --capture are refused
// for a machine; an unknown MAC is named; a dashed MAC is a system's name.
func TestConsoleCLIMachine(t *testing.T) {
	now := time.Now()
	f := &cliConsole{
		lines: []console.Line{{At: now.Add(-time.Second), Text: []byte("\x1b[1mprovision-agent\x1b[0m: BMC enrolled")}},
		live:  []string{"Powering off.\n"},
	}
	run, reg := consoleServerCLI(t, f)
	inv := inventory.Inventory{MAC: "52:54:00:00:00:01", DMI: inventory.DMI{Serial: "S1"}}
	if _, err := reg.ReportInventory(context.Background(), inv, "lan", "10.0.0.201"); err != nil {
		t.Fatal(err)
	}
	out, _, err := run("", "console", "52:54:00:00:00:01")
	if err != nil || !regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3}  provision-agent: BMC enrolled\n$`).MatchString(out) {
		t.Errorf("console 52:54:00:00:00:01: %v\n%s", err, out)
	}
	out, _, err = run("", "console", "52:54:00:00:00:01", "--json")
	if err != nil || !strings.Contains(out, `"system": "mac_525400000001"`) {
		t.Errorf("console MAC --json: %v\n%s", err, out)
	}
	out, _, err = run("", "console", "52:54:00:00:00:01", "--follow")
	if err == nil || !strings.Contains(err.Error(), "machine 52:54:00:00:00:01's console stream: the server") {
		t.Errorf("console MAC --follow when the stream ends: %v", err)
	}
	if !strings.HasSuffix(out, "  Powering off.\n") {
		t.Errorf("console MAC --follow:\n%s", out)
	}
	for _, args := range [][]string{{"--attach"}, {"--capture", "on"}} {
		_, _, err := run("", append([]string{"console", "52:54:00:00:00:01"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "read only") {
			t.Errorf("console MAC %q: %v, want a usage error", args, err)
		}
	}
	if _, _, err := run("", "console", "52:54:00:00:00:02"); err == nil || !strings.Contains(err.Error(), "machine 52:54:00:00:00:02 not found") {
		t.Errorf("an unknown machine: %v", err)
	}
	if _, _, err := run("", "console", "52-54-00-00-00-01"); err == nil || !strings.Contains(err.Error(), "system 52-54-00-00-00-01 not found") {
		t.Errorf("a dashed MAC, a system name: %v", err)
	}
}
