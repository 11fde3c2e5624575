package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// callHost is call with a Host header of the client's choosing.
func callHost(t *testing.T, h http.Handler, method, path, host, token string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.Host = host
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	validated(t, h).ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// The URLs the report and a template render show are the appliance's
// own (Config.BootURL, else the address the request came to), never
// built from the Host header, which the client chooses.
func TestBootURLsIgnoreTheHostHeader(t *testing.T) {
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t,
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "debian12-preseed"})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "inst01", MACs: []string{"aa:bb:cc:dd:ee:02"}, IP: "10.0.0.12", Profile: "inst", Netboot: true})
			return err
		},
	)
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: reg, Auth: Tokens("tok", ""), Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	defer srv.Close()
	for _, p := range []string{"/api/v1/systems/inst01/report", "/api/v1/templates/debian12-preseed/render?system=inst01"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(b), "evil.example") || !strings.Contains(string(b), strings.TrimPrefix(srv.URL, "http://")) {
			t.Errorf("GET %s with Host evil.example: %d, want the server's own address, not the Host:\n%s", p, resp.StatusCode, b)
		}
	}
}

// CheckHost refuses a Host that is not the appliance's with 421, which
// names it; /healthz answers any.
func TestCheckHost(t *testing.T) {
	own := func(h string) bool { return h == "10.0.0.1" || h == "prov.example" }
	h := Handler(Config{Registry: registrytest.Open(t), Auth: Tokens("tok", ""), Hosts: own, Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	for _, tc := range []struct {
		host, path string
		code       int
	}{
		{"10.0.0.1:8443", "/api/v1/whoami", 200},
		{"Prov.Example.", "/api/v1/whoami", 200},
		{"rebound.example:8443", "/api/v1/whoami", 421},
		{"10.0.0.1.rebound.example", "/api/v1/systems", 421},
		{"rebound.example", "/healthz", 200},
	} {
		code, body := callHost(t, h, "GET", tc.path, tc.host, "tok")
		if code != tc.code || code == 421 && !strings.Contains(body, tc.host) {
			t.Errorf("GET %s, Host %s: %d %s, want %d", tc.path, tc.host, code, body, tc.code)
		}
	}
}

// countingPower is a Power that counts the BMC logins it is asked for.
type countingPower struct{ asked atomic.Int64 }

func (p *countingPower) PowerState(context.Context, ipmi.BMC) (string, error) {
	p.asked.Add(1)
	return ipmi.On, nil
}
func (p *countingPower) SetPower(context.Context, ipmi.BMC, string) error { return nil }
func (p *countingPower) SetBootDevice(context.Context, ipmi.BMC, string, bool) error {
	return nil
}

// Reading the power, with any token, answers the poller's last readings
// and logs into no BMC; asking the BMCs now (?fresh=1) takes the admin
// token. The last install log is the admin's too.
func TestPowerReadsThePollAndFreshNeedsAdmin(t *testing.T) {
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t, func() error {
		_, err := reg.AddSystem(ctx, registry.System{Name: "bmc01", MACs: []string{"aa:bb:cc:dd:ee:09"}, IP: "10.0.0.19", Profile: "web",
			BMC: &registry.BMC{Address: "10.0.1.19", User: "admin", Password: "pw"}})
		return err
	})
	power := &countingPower{}
	polled := map[string]string{"bmc01": ipmi.Off}
	h := Handler(Config{Registry: reg, Auth: Tokens("tok", "ro"), Power: power, PowerStates: func(s string) string { return polled[s] },
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	for range 50 {
		code, body := callHost(t, h, "GET", "/api/v1/power", "", "ro")
		var out []PowerResult
		if json.Unmarshal([]byte(body), &out); code != 200 || len(out) != 1 || out[0].State != ipmi.Off {
			t.Fatalf("GET /api/v1/power, read-only: %d %s, want the poll's off", code, body)
		}
	}
	if code, body := callHost(t, h, "GET", "/api/v1/systems/bmc01/power", "", "ro"); code != 200 || !strings.Contains(body, `"off"`) {
		t.Errorf("GET /api/v1/systems/bmc01/power, read-only: %d %s", code, body)
	}
	if n := power.asked.Load(); n != 0 {
		t.Errorf("51 reads with the read-only token made %d BMC logins, want 0", n)
	}
	for _, p := range []string{"/api/v1/power?fresh=1", "/api/v1/systems/bmc01/power?fresh=1", "/api/v1/systems/bmc01/install-log"} {
		if code, body := callHost(t, h, "GET", p, "", "ro"); code != 403 || !strings.Contains(body, "read-only (viewer) may not") {
			t.Errorf("GET %s, read-only: %d %s, want 403", p, code, body)
		}
	}
	if code, body := callHost(t, h, "GET", "/api/v1/power?fresh=1", "", "tok"); code != 200 || !strings.Contains(body, `"on"`) || power.asked.Load() != 1 {
		t.Errorf("GET /api/v1/power?fresh=1, admin: %d %s, %d logins", code, body, power.asked.Load())
	}
}
