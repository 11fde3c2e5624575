package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// TestPrintersStripControls: text that came from the network (an event's
// detail, an installer's log, a discovered machine's DHCP hostname and
// vendor class) reaches the terminal without its control characters, in
// provision events, system status, system report and system list
// --discovered, even when the server sent them.
func TestPrintersStripControls(t *testing.T) {
	const evil = "pxelinux.cfg/\x1b[2J\x1b]0;owned\x07\r\n\u009b31m01-aa"
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ev := []registry.Event{{At: at, System: "web001", Kind: "tftp\x1b[1m", Detail: evil}}
	sys := registry.System{Name: "web001", IP: "10.0.0.11", Status: registry.StateInstalled,
		BMC: &registry.BMC{Address: "10.0.1.11", Provider: "redfish", Insecure: true}}
	mux := http.NewServeMux()
	reply := func(path string, v any) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(v) })
	}
	reply(api.Path("events"), ev)
	reply(api.Path("systems", "web001"), sys)
	reply(api.Path("systems", "web001", "events"), ev)
	reply(api.Path("systems", "web001", "report"), api.Report{System: &sys, LastBoot: ev})
	reply(api.Path("discovered"), []registry.Discovered{{MAC: "52:54:00:00:00:09", IP: "10.0.0.200", Subnet: "lab",
		Hostname: "pwn\x1b]0;owned\x07", VendorClass: "PXEClient\x1b[2J", LastSeen: at}})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PROVISION_TOKEN", "test")
	for _, args := range [][]string{
		{"events"},
		{"system", "status", "web001"},
		{"system", "report", "web001"},
		{"system", "list", "--discovered"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			root := newRoot()
			root.SetArgs(append(args, "--server", srv.URL))
			root.SetOut(&out)
			root.SetErr(&errOut)
			if err := root.Execute(); err != nil {
				t.Fatalf("%v: %s", err, errOut.String())
			}
			text := out.String()
			if strings.ContainsAny(text, "\x1b\x07\r\u009b") {
				t.Errorf("control characters reached the terminal: %q", text)
			}
			if !strings.Contains(text, "owned") && !strings.Contains(text, "PXEClient") && !strings.Contains(text, "pxelinux.cfg/") {
				t.Errorf("the text itself is gone: %q", text)
			}
			if len(args) > 1 && args[1] == "report" && !strings.Contains(text, "certificate not checked") {
				t.Errorf("the report does not say the BMC's certificate is not checked: %q", text)
			}
		})
	}
}
