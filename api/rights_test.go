package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// principals are the callers of the rights tests, by token: one of each
// role, and scoped ones.
func principals(t *testing.T) map[string]access.Principal {
	tokyo, err := access.ParseScopes([]string{"site=tokyo"})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]access.Principal{
		"viewer":      {Name: "vera", Role: access.Viewer},
		"operator":    {Name: "otto", Role: access.Operator},
		"admin":       {Name: "ada", Role: access.Admin, Token: "ci"},
		"tokyo-op":    {Name: "taro", Role: access.Operator, Scopes: tokyo},
		"tokyo-admin": {Name: "tomo", Role: access.Admin, Scopes: tokyo},
	}
}

// rightsServer serves a seeded registry (two sites: tokyo, osaka) to the
// callers of principals.
func rightsServer(t *testing.T) (*httptest.Server, *registry.Registry) {
	t.Helper()
	return rightsServerWith(t, &fakeConsole{})
}

// rightsServerWith is rightsServer with cons as its consoles.
func rightsServerWith(t *testing.T, cons Console) (*httptest.Server, *registry.Registry) {
	t.Helper()
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t, func() error {
		_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "debian12-preseed"})
		return err
	})
	for _, site := range []struct{ name, cidr, ip, mac string }{{"tokyo", "10.1.0.0/24", "10.1.0.11", "aa:bb:cc:00:00:01"}, {"osaka", "10.2.0.0/24", "10.2.0.11", "aa:bb:cc:00:00:02"}} {
		registrytest.Must(t, func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: site.name, CIDR: site.cidr, Site: site.name})
			return err
		}, func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: site.name + "1", IP: site.ip, Profile: "inst",
				MACs: []string{site.mac}})
			return err
		})
	}
	who := principals(t)
	auth := func(tok string) (access.Principal, error) {
		if p, ok := who[tok]; ok {
			return p, nil
		}
		return access.Principal{}, errBadToken
	}
	blobs, err := images.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(Config{Registry: reg, Blobs: blobs, Auth: auth, Console: cons,
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	srv := httptest.NewServer(validated(t, h))
	t.Cleanup(srv.Close)
	return srv, reg
}

// examplePath fills a route's path with names the seeded registry has.
func examplePath(pattern string) string {
	_, p, _ := strings.Cut(pattern, " ")
	kind := strings.Split(strings.TrimPrefix(p, "/api/v1/"), "/")[0]
	name := map[string]string{"systems": "web001", "subnets": "lan", "images": "img", "profiles": "web",
		"templates": "t1", "rules": "r1", "hooks": "h1", "users": "vera", "tokens": "0123456789ab"}[kind]
	p = strings.ReplaceAll(p, "{name}", name)
	p = strings.ReplaceAll(p, "{key}", "aa:bb:cc:dd:ee:99")
	p = strings.ReplaceAll(p, "{id}", "0123456789ab")
	return p
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, path, token, err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		return resp.StatusCode, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every route has a decided right, and each role gets exactly the routes
// its rights allow: refused with 403 and a reason otherwise. A route
// added without a decision fails here (and panics at registration).
func TestRouteRights(t *testing.T) {
	routes := muxRoutes(t)
	if len(routes) < 60 {
		t.Fatalf("found %d routes: the test no longer sees how routes are registered", len(routes))
	}
	for _, pattern := range routes {
		_, decided := routeRights[pattern]
		if !decided && !public[pattern] {
			t.Errorf("route %s has no right in routeRights (api/rights.go): decide one", pattern)
		}
	}
	for pattern := range routeRights {
		if !slices.Contains(routes, pattern) {
			t.Errorf("routeRights names %s, which the API does not route", pattern)
		}
	}
	for _, pattern := range routes {
		n, ok := routeRights[pattern]
		if !ok {
			continue
		}
		t.Run(strings.ReplaceAll(pattern, "/", "_"), func(t *testing.T) {
			srv, _ := rightsServer(t)
			method, _, _ := strings.Cut(pattern, " ")
			for _, role := range access.Roles { // viewer first: a refused write changes nothing for the next
				code, body := do(t, srv, method, examplePath(pattern), string(role), "{}")
				if role.Has(n.right) == (code == http.StatusForbidden) || code == http.StatusUnauthorized {
					t.Errorf("%s as %s (right %s): %d %s", pattern, role, n.right, code, body)
				}
				if code == http.StatusForbidden && !strings.Contains(body, "(the "+string(n.right)+" right)") {
					t.Errorf("%s as %s: refused without the reason: %s", pattern, role, body)
				}
			}
		})
	}
}

// ?secrets=1 takes the secrets right whatever the route, and asking
// BMCs now (?fresh=1) the power right.
func TestQueryRights(t *testing.T) {
	srv, _ := rightsServer(t)
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/export?secrets=1", "operator", 403},
		{"/api/v1/export?secrets=0", "viewer", 200},
		{"/api/v1/export?secrets=1", "admin", 200},
		{"/api/v1/settings?secrets=1", "operator", 403},
		{"/api/v1/power?fresh=1", "viewer", 403},
		{"/api/v1/systems/web001/install-log", "operator", 403},
	} {
		if code, body := do(t, srv, "GET", c.path, c.token, ""); code != c.want {
			t.Errorf("GET %s as %s: %d %s, want %d", c.path, c.token, code, body, c.want)
		}
	}
}

// A scoped caller acts only on the systems of its site, is told why
// otherwise, still reads everything, and may not change what is not
// about one system.
func TestScopeRights(t *testing.T) {
	srv, reg := rightsServer(t)
	for _, c := range []struct {
		method, path, token, body string
		want                      int
		reason                    string
	}{
		{"POST", "/api/v1/systems/osaka1/reinstall", "tokyo-op", "", 403, "taro (operator) may build systems of site tokyo only: osaka1 is of site osaka, profile inst"},
		{"POST", "/api/v1/systems/osaka1/power", "tokyo-op", `{"action":"on"}`, 403, "may power systems of site tokyo only"},
		{"POST", "/api/v1/systems/tokyo1/reinstall", "tokyo-op", "", 200, ""},
		{"POST", "/api/v1/systems/tokyo1/abort", "tokyo-op", "", 200, ""},
		{"POST", "/api/v1/systems/tokyo1/netboot", "tokyo-op", `{"netboot": true}`, 200, `"netboot": true`},
		{"POST", "/api/v1/systems/osaka1/netboot", "tokyo-op", `{"netboot": false}`, 403, "may build systems of site tokyo only"},
		{"POST", "/api/v1/systems/tokyo1/netboot", "tokyo-op", `{}`, 400, "netboot: give"},
		{"GET", "/api/v1/systems/osaka1", "tokyo-op", "", 200, ""},
		{"GET", "/api/v1/systems", "tokyo-op", "", 200, ""},
		{"PUT", "/api/v1/profiles/web", "tokyo-admin", `{"name":"web","image":"img"}`, 403, "is limited to systems of site tokyo: PUT /api/v1/profiles/web is not about one system"},
		{"POST", "/api/v1/templates", "tokyo-admin", `{"name":"t","kind":"kickstart","text":"x"}`, 403, "is limited to systems of site tokyo: templates is not about one system"},
		{"PATCH", "/api/v1/systems/tokyo1", "tokyo-admin", `{"ip":"10.2.0.12"}`, 403, "osaka"},
		{"DELETE", "/api/v1/systems/osaka1", "tokyo-admin", "", 403, "may edit systems of site tokyo only"},
		{"POST", "/api/v1/systems", "tokyo-admin", `{"name":"o2","ip":"10.2.0.13","profile":"inst","macs":["aa:bb:cc:00:01:02"]}`, 403, "osaka"},
		{"POST", "/api/v1/systems", "tokyo-admin", `{"name":"t2","ip":"10.1.0.13","profile":"inst","macs":["aa:bb:cc:00:01:03"]}`, 201, ""},
		{"PATCH", "/api/v1/systems/tokyo1", "tokyo-admin", `{"kernel_args":"quiet"}`, 200, ""},
	} {
		code, body := do(t, srv, c.method, c.path, c.token, c.body)
		if code != c.want || !strings.Contains(body, c.reason) {
			t.Errorf("%s %s as %s: %d %s, want %d %q", c.method, c.path, c.token, code, body, c.want, c.reason)
		}
	}
	snap := reg.Snapshot()
	if sys, ok := snap.SystemByName("tokyo1"); !ok || sys.IP != "10.1.0.11" {
		t.Errorf("tokyo1 after a refused move to osaka: %+v", sys)
	}
	if sys, ok := snap.SystemByName("osaka1"); !ok || !sys.Netboot {
		t.Errorf("osaka1 after a caller of tokyo removed it and turned its netboot off: %+v", sys)
	}
	if sys, _ := snap.SystemByName("tokyo1"); !sys.Netboot || sys.Status != registry.StateFailed || sys.Profile != "inst" || len(sys.MACs) != 1 {
		t.Errorf("tokyo1 after an abort and netboot on: %+v; want netboot on, failed, nothing else changed", sys)
	}
	hist, err := reg.History(context.Background(), "t2", 10)
	if err != nil || len(hist) != 1 || hist[0].By != "tomo" {
		t.Errorf("history of t2: %+v %v; want one record by tomo", hist, err)
	}
}
