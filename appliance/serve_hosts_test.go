package appliance

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/apitoken"
)

// The API and the dashboard on their TLS listener answer only to the
// appliance's own names and addresses (and --api-host): a name rebound
// to the appliance's address by another site's DNS is refused with 421,
// which names it.
func TestAPIRefusesForeignHosts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := devConfig(t)
	cfg.API = "127.0.0.1:0"
	cfg.APIHosts = []string{"provision.example.net"}
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	token, err := os.ReadFile(filepath.Join(cfg.Data, apitoken.FileName(apitoken.ReadOnly)))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer hc.CloseIdleConnections()
	get := func(host, path string) (int, string) {
		req, _ := http.NewRequest("GET", "https://"+a.Addrs().API+path, nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, port, _ := strings.Cut(a.Addrs().API, ":")
	for _, tc := range []struct {
		host, path string
		code       int
	}{
		{"attacker.example:" + port, "/api/v1/whoami", 421},
		{"attacker.example", "/ui/login", 421},
		{"127.0.0.1:" + port, "/api/v1/whoami", 200},
		{"localhost:" + port, "/ui/login", 200},
		{"[::1]:" + port, "/api/v1/whoami", 200},
		{"PROVISION.example.net.:" + port, "/api/v1/whoami", 200},
		{a.cfg.Name, "/api/v1/whoami", 200},
		{"attacker.example", "/healthz", 200},
	} {
		code, body := get(tc.host, tc.path)
		if code != tc.code {
			t.Errorf("GET %s with Host %s: %d %s, want %d", tc.path, tc.host, code, body, tc.code)
		}
		if code == 421 && !strings.Contains(body, tc.host) {
			t.Errorf("GET %s with Host %s: the refusal does not name the host: %s", tc.path, tc.host, body)
		}
	}
}
