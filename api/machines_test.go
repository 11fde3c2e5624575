package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// powerLog is Builds and Inspect for tests: it records which system's BMC
// it was asked to power, and what for.
type powerLog struct {
	mu    sync.Mutex
	calls []string
}

func (p *powerLog) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

func (p *powerLog) PowerForBuild(_ context.Context, sys *registry.System) (string, error) {
	p.add("build " + sys.Name + " " + sys.BMC.Address)
	return "cycle", nil
}
func (p *powerLog) BuildFailed(string) {}
func (p *powerLog) inspect(_ context.Context, sys *registry.System) (string, error) {
	p.add("inspect " + sys.Name + " " + sys.BMC.Address)
	return "on", nil
}

func (p *powerLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.calls, "; ")
}

// discoveryServer is the API over a seeded registry (web001, lan, profile
// web) where machine 52:54:00:00:00:01 (serial S1) reported from lan,
// its BMC 10.0.9.1 enrolled.
func discoveryServer(t *testing.T) (*httptest.Server, *powerLog) {
	t.Helper()
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	inv := inventory.Inventory{MAC: "52:54:00:00:00:01", DMI: inventory.DMI{Serial: "S1"},
		NICs: []inventory.NIC{{Name: "eth0", MAC: "52:54:00:00:00:01"}}, BMC: &inventory.BMCLAN{IP: "10.0.9.1"}}
	if _, err := reg.ReportInventory(ctx, inv, "lan", "10.0.0.201"); err != nil {
		t.Fatal(err)
	}
	if err := reg.SetMachineBMC(ctx, inv.MAC, registry.MachineBMC{Address: "10.0.9.1", User: "provision", Enrolled: true}, "pw"); err != nil {
		t.Fatal(err)
	}
	p := &powerLog{}
	h := Handler(Config{Registry: reg, Auth: Tokens("tok", "ro"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: prometheus.NewRegistry(), Builds: p, Inspect: p.inspect})
	srv := httptest.NewServer(validated(t, h))
	t.Cleanup(srv.Close)
	return srv, p
}

func callAPI(t *testing.T, srv *httptest.Server, token, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Errors name what they are about: an unknown machine's key, a system
// without an inventory, an unknown rule or state; the read-only token
// reads machines and may not accept one.
func TestMachineErrors(t *testing.T) {
	srv, _ := discoveryServer(t)
	for _, c := range []struct {
		token, method, path, body string
		status                    int
		want                      string
	}{
		{"ro", "GET", "/api/v1/machines/S1", ``, 200, `"mac": "52:54:00:00:00:01"`},
		{"ro", "GET", "/api/v1/machines?state=discovered", ``, 200, `"serial": "S1"`},
		{"ro", "GET", "/api/v1/machines?state=lost", ``, 400, "state lost: want discovered or registered"},
		{"ro", "GET", "/api/v1/machines/nope", ``, 404, "machine nope not found"},
		{"ro", "POST", "/api/v1/machines/S1/accept", `{"name":"n1","profile":"web"}`, 403, "read-only (viewer) may not accept"},
		{"tok", "POST", "/api/v1/machines/nope/accept", `{"name":"n1","profile":"web"}`, 404, "machine nope not found"},
		{"tok", "POST", "/api/v1/machines/S1/accept", `{"name":"web001","profile":"web"}`, 409, "web001"},
		{"tok", "POST", "/api/v1/machines/S1/accept", `{"name":"n1","profile":"web","bogus":1}`, 400, "unknown field"},
		{"tok", "POST", "/api/v1/machines/nope/watch", `{"watch":true}`, 404, "machine nope not found"},
		{"tok", "GET", "/api/v1/systems/web001/inventory", ``, 404, "system web001 has no inventory"},
		{"tok", "GET", "/api/v1/systems/nope/inventory", ``, 404, "system nope not found"},
		{"tok", "POST", "/api/v1/systems/nope/inspect", ``, 404, "system nope not found"},
		{"tok", "POST", "/api/v1/rules/nope/test", `{"key":"S1"}`, 404, "rule nope not found"},
		{"tok", "GET", "/api/v1/rules/nope", ``, 404, "rule nope not found"},
		{"tok", "POST", "/api/v1/rules", `{"name":"r1","match":"dmi.serail == \"S1\"","name_template":"n-{{ .DMI.Serial }}","profile":"web"}`, 400, "serail"},
	} {
		status, body := callAPI(t, srv, c.token, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s (%s): %d %s; want %d with %q", c.method, c.path, c.token, status, body, c.status, c.want)
		}
	}
}

// An accept with reinstall powers the new system through its enrolled
// BMC as a reinstall does (Builds); an inspect powers it through
// Config.Inspect; an accept without reinstall powers nothing.
func TestAcceptPowersAndInspect(t *testing.T) {
	srv, p := discoveryServer(t)
	status, body := callAPI(t, srv, "tok", "POST", "/api/v1/machines/S1/accept", `{"name":"n1","profile":"web","ip":"auto","reinstall":true}`)
	var res ReinstallResult
	json.Unmarshal([]byte(body), &res)
	if status != http.StatusCreated || res.System.Name != "n1" || res.System.BMC == nil || res.Power != "cycle" {
		t.Fatalf("accept with reinstall: %d %s", status, body)
	}
	if got := p.String(); got != "build n1 10.0.9.1" {
		t.Errorf("accept with reinstall powered %q, want build n1 10.0.9.1", got)
	}
	status, body = callAPI(t, srv, "tok", "GET", "/api/v1/systems/n1/inventory", "")
	if status != http.StatusOK || !strings.Contains(body, `"system": "n1"`) || !strings.Contains(body, `"state": "registered"`) {
		t.Errorf("the inventory of n1: %d %s", status, body)
	}
	status, body = callAPI(t, srv, "tok", "POST", "/api/v1/systems/n1/inspect", "")
	var ins InspectResult
	json.Unmarshal([]byte(body), &ins)
	if status != http.StatusAccepted || ins.Power != "on" || strings.Contains(body, "token") {
		t.Errorf("inspect n1: %d %s", status, body)
	}
	if got := p.String(); got != "build n1 10.0.9.1; inspect n1 10.0.9.1" {
		t.Errorf("after inspect the BMCs were asked %q", got)
	}
	status, body = callAPI(t, srv, "tok", "POST", "/api/v1/systems/web001/inspect", "")
	if json.Unmarshal([]byte(body), &ins); status != http.StatusAccepted || !strings.Contains(ins.PowerError, "has no BMC") {
		t.Errorf("inspect web001 (no BMC): %d %s", status, body)
	}
	if got := p.String(); got != "build n1 10.0.9.1; inspect n1 10.0.9.1" {
		t.Errorf("inspecting a system without a BMC asked %q", got)
	}
}
