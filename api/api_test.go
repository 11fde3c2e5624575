package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/images"
	"github.com/provision/provision/registry/registrytest"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newTestServerWith(t, nil)
}

// newTestServerWith is newTestServer with more of its Config set by more.
func newTestServerWith(t *testing.T, more func(*Config)) *httptest.Server {
	t.Helper()
	reg := registrytest.Open(t)
	blobs, err := images.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Registry: reg, Blobs: blobs, Auth: Tokens("tok", "ro"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: prometheus.NewRegistry()}
	if more != nil {
		more(&cfg)
	}
	srv := httptest.NewServer(validated(t, Handler(cfg)))
	t.Cleanup(srv.Close)
	return srv
}

func TestBadRequests(t *testing.T) {
	srv := newTestServer(t)
	big := `{"value":"` + strings.Repeat("x", maxJSONBody) + `"}`
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"PUT", "/api/v1/settings/a", big, 413, "request body over"},
		{"PUT", "/api/v1/settings/a", `{"value":"1","extra":2}`, 400, `unknown field`},
		{"PUT", "/api/v1/settings/a", `{"value":`, 400, "bad JSON body"},
		{"POST", "/api/v1/subnets", `{"name":"lan","cidr":"10.0.0.0/33"}`, 400, "is not an IPv4 prefix"},
		{"GET", "/api/v1/systems/nope", ``, 404, "system nope not found"},
		{"DELETE", "/api/v1/profiles/nope", ``, 404, "profile nope not found"},
		{"POST", "/api/v1/images", `{"name":"x","kind":"install","files":{"kernel":{"sha256":"` + strings.Repeat("a", 64) + `"}}}`, 400, "was not uploaded"},
		{"POST", "/api/v1/systems", `{"name":"a","bmc_password":"x"}`, 400, "bmc_password without a bmc address"},
		{"GET", "/api/v1/history?limit=-1", ``, 400, "want a positive number"},
		{"POST", "/api/v1/import", "systems: [{name: x, nonsense: 1}]", 400, "field nonsense not found"},
		{"PUT", "/api/v1/blobs?sha256=" + strings.Repeat("0", 64), "content", 400, "upload has sha256"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", c.method, c.path, resp.StatusCode, b, c.status, c.want)
		}
	}
}

func TestClientError(t *testing.T) {
	srv := newTestServer(t)
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	err := c.Do(context.Background(), "GET", Path("systems", "web/../x"), nil, nil)
	if e, ok := err.(*Error); !ok || e.Status != 404 {
		t.Fatalf("got %v", err)
	}
	c.BaseURL = "http://127.0.0.1:1"
	if err := c.Do(context.Background(), "GET", Path("systems"), nil, nil); err == nil || !strings.Contains(err.Error(), "cannot reach the server") {
		t.Fatalf("unreachable server: %v", err)
	}
}

// /healthz says what is missing, with 503, and "ok" otherwise.
func TestHealthz(t *testing.T) {
	for _, tc := range []struct {
		problems []string
		code     int
		body     string
	}{
		{nil, 200, "ok\n"},
		{[]string{"boot file undionly.kpxe is missing"}, 503, "degraded\nboot file undionly.kpxe is missing\n"},
	} {
		h := validated(t, Handler(Config{Metrics: prometheus.NewRegistry(), Log: slog.New(slog.DiscardHandler), Health: func() []string { return tc.problems }}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
		if w.Code != tc.code || w.Body.String() != tc.body {
			t.Errorf("problems %q: %d %q, want %d %q", tc.problems, w.Code, w.Body, tc.code, tc.body)
		}
	}
}

// A client's junk method does not make a metrics series of its own.
func TestMetricsMethodLabel(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := Handler(Config{Registry: registrytest.Open(t), Metrics: reg, Log: slog.New(slog.DiscardHandler)})
	for _, m := range []string{"GET", "FOO1", "FOO2", "BAR"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/healthz", nil))
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, f := range families {
		if f.GetName() != "provision_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "method" {
					methods[l.GetValue()] = true
				}
			}
		}
	}
	if len(methods) != 2 || !methods["GET"] || !methods["other"] {
		t.Errorf("method labels %v, want GET and other", methods)
	}
}
