package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/console"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
)

// A machine's console name is "mac_" and its MAC's 12 lowercase hex
// digits, which no system name can be (a DNS label has no '_') and a
// console Ring accepts; ConsoleMachine reads it back and nothing else.
func TestMachineConsoleName(t *testing.T) {
	for mac, want := range map[string]string{
		"52:54:00:D9:0B:01": "mac_525400d90b01",
		"52-54-00-d9-0b-01": "mac_525400d90b01",
		"aa:bb:cc:dd:ee:ff": "mac_aabbccddeeff",
		"web001":            "",
		"":                  "",
		"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01": "", // 20 bytes (InfiniBand)
	} {
		got := MachineConsoleName(mac)
		if got != want {
			t.Errorf("MachineConsoleName(%q) = %q, want %q", mac, got, want)
			continue
		}
		if got == "" {
			continue
		}
		if err := registry.CheckSystemName(got); err == nil {
			t.Errorf("%q is a valid system name: a system could take a machine's console", got)
		}
		if _, err := console.OpenRing(t.TempDir(), got, 0); err != nil {
			t.Errorf("a console Ring refuses %q: %v", got, err)
		}
		back, ok := ConsoleMachine(got)
		if !ok || back != strings.ToLower(strings.ReplaceAll(mac, "-", ":")) {
			t.Errorf("ConsoleMachine(%q) = %q, %v", got, back, ok)
		}
	}
	for _, name := range []string{"web001", "mac-525400d90b01", "mac_525400D90B01", "mac_525400d90b0", "mac_525400d90b0g", "mac_525400d90b0101"} {
		if mac, ok := ConsoleMachine(name); ok {
			t.Errorf("ConsoleMachine(%q) = %q: a system's name read as a machine's", name, mac)
		}
	}
}

// reportMachine has machine 52:54:00:00:00:01 (serial S1) report an
// inventory from lan.
func reportMachine(t *testing.T, reg *registry.Registry) {
	t.Helper()
	inv := inventory.Inventory{MAC: "52:54:00:00:00:01", DMI: inventory.DMI{Serial: "S1"}}
	if _, err := reg.ReportInventory(context.Background(), inv, "lan", "10.0.0.201"); err != nil {
		t.Fatal(err)
	}
}

// A discovered machine's console is read as a system's, by the machine's
// MAC or serial, under its console name: status and cleaned lines, then
// the live stream; a viewer and a scoped operator may read it.
func TestMachineConsoleLines(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	const name = "mac_525400000001"
	f := &fakeConsole{
		status:   map[string]ConsoleStatus{name: {Capturing: true, Why: []string{"discovering"}, State: "open"}},
		lines:    []console.Line{{At: now.Add(-time.Minute), Text: []byte("\x1b[1mprovision-agent: enrolled\x1b[0m")}},
		live:     make(chan []byte),
		followed: make(chan string, 1),
	}
	srv, reg := consoleServer(t, f)
	reportMachine(t, reg)
	want := &ConsoleView{Status: ConsoleStatus{System: name, Capturing: true, Why: []string{"discovering"}, State: "open"},
		Lines: []ConsoleLine{{At: now.Add(-time.Minute), Text: "provision-agent: enrolled"}}}
	for _, key := range []string{"52:54:00:00:00:01", "52-54-00-00-00-01", "S1"} {
		v, err := consoleClient(srv, "viewer").MachineConsoleLines(t.Context(), key, "", 200)
		if err != nil {
			t.Fatalf("machine %s: %v", key, err)
		}
		if d := cmp.Diff(want, v); d != "" {
			t.Errorf("console of machine %s (-want +got):\n%s", key, d)
		}
	}
	if code, body := do(t, srv, "GET", "/api/v1/machines/S1/console?lines=0", "operator", ""); code != 200 || strings.Contains(body, "enrolled") {
		t.Errorf("lines=0: %d %s, want the status alone", code, body)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	got := make(chan ConsoleLine, 10)
	ended := make(chan error, 1)
	go func() {
		ended <- consoleClient(srv, "viewer").FollowMachineConsole(ctx, "S1", "", func(l ConsoleLine) error { got <- l; return nil })
	}()
	if followed := <-f.followed; followed != name {
		t.Fatalf("followed %q, want %q", followed, name)
	}
	f.live <- []byte("Powering off.\r\n")
	select {
	case l := <-got:
		if l.Text != "Powering off." || l.Partial {
			t.Errorf("live line %+v", l)
		}
	case <-ctx.Done():
		t.Fatal("no live line")
	}
	close(f.live)
	if err := <-ended; err == nil || !strings.Contains(err.Error(), "machine S1's console stream") {
		t.Errorf("FollowMachineConsole after the console ended: %v", err)
	}
}

// An unknown machine is a 404 naming its key; without consoles, 501; a
// machine's console has no attach and no capture route.
func TestMachineConsoleErrors(t *testing.T) {
	srv, reg := consoleServer(t, &fakeConsole{})
	reportMachine(t, reg)
	for _, path := range []string{"/api/v1/machines/nope/console", "/api/v1/machines/nope/console/stream", "/api/v1/machines/aa:bb:cc:dd:ee:ff/console"} {
		key := strings.Split(path, "/")[4]
		if code, body := do(t, srv, "GET", path, "admin", ""); code != 404 || !strings.Contains(body, "machine "+key+" not found") {
			t.Errorf("GET %s: %d %s, want 404 naming %s", path, code, body, key)
		}
	}
	if code, body := do(t, srv, "GET", "/api/v1/machines/S1/console?lines=x", "admin", ""); code != 400 || !strings.Contains(body, "want a number") {
		t.Errorf("?lines=x: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/machines/S1/console/attach", "/api/v1/machines/S1/console/capture"} {
		if code, body := do(t, srv, "POST", path, "admin", `{"on": true}`); code != 404 && code != 405 {
			t.Errorf("POST %s: %d %s, want no such route", path, code, body)
		}
	}
	srv, reg = consoleServer(t, nil)
	reportMachine(t, reg)
	if code, body := do(t, srv, "GET", "/api/v1/machines/S1/console", "admin", ""); code != 501 || !strings.Contains(body, "this server captures no consoles") {
		t.Errorf("without consoles: %d %s", code, body)
	}
}

// A scoped caller reads a discovered machine's console as it reads the
// machine (a machine is of no site yet).
func TestMachineConsoleScope(t *testing.T) {
	srv, reg := rightsServerWith(t, &fakeConsole{})
	inv := inventory.Inventory{MAC: "52:54:00:00:00:01", DMI: inventory.DMI{Serial: "S1"}}
	if _, err := reg.ReportInventory(context.Background(), inv, "osaka", "10.2.0.201"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/machines/S1", "/api/v1/machines/S1/console"} {
		if code, body := do(t, srv, "GET", path, "tokyo-op", ""); code != 200 {
			t.Errorf("GET %s as tokyo-op: %d %s, want 200", path, code, body)
		}
	}
}
