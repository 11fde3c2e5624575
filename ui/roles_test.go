package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// roleUI is the dashboard over the real API and a registry of two
// sites: tk1 (10.1.0.11, site tokyo) and os1 (10.2.0.11, site osaka),
// both of profile inst (template inst) with a BMC. Its tokens: "adm"
// (the admin token file), "view" (vera, viewer), "op" (olga, operator)
// and "tokyo" (tom, operator of site tokyo).
type roleUI struct {
	h      http.Handler
	reg    *registry.Registry
	log    *bytes.Buffer
	revoke func(token string) // the API no longer accepts token
}

func newRoleUI(t *testing.T, directory bool) *roleUI {
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t,
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "tokyo", CIDR: "10.1.0.0/24", Site: "tokyo"})
			return err
		},
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "osaka", CIDR: "10.2.0.0/24", Site: "osaka"})
			return err
		},
		func() error {
			_, err := reg.AddTemplate(ctx, kickstart.Template{Name: "inst", Kind: kickstart.KindScript, Text: "#!/bin/sh\n# {{.System.Name}}\n"})
			return err
		},
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "inst"})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "tk1", MACs: []string{"02:00:00:00:01:01"}, IP: "10.1.0.11", Profile: "inst", BMC: &registry.BMC{Address: "10.9.0.1"}})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "os1", MACs: []string{"02:00:00:00:02:01"}, IP: "10.2.0.11", Profile: "inst", BMC: &registry.BMC{Address: "10.9.0.2"}})
			return err
		},
	)
	tokyo, _ := access.ParseScopes([]string{"site=tokyo"})
	people := map[string]access.Principal{
		"adm":   api.FileAdmin,
		"view":  {Name: "vera", Role: access.Viewer},
		"op":    {Name: "olga", Role: access.Operator},
		"tokyo": {Name: "tom", Role: access.Operator, Scopes: tokyo},
	}
	var mu sync.Mutex
	auth := func(tok string) (access.Principal, error) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := people[tok]; ok {
			return p, nil
		}
		return access.Principal{}, &access.Denied{Msg: "wrong token"}
	}
	revoke := func(tok string) { mu.Lock(); delete(people, tok); mu.Unlock() }
	buf := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	apiH := api.Handler(api.Config{Registry: reg, Auth: auth, Log: log, Metrics: prometheus.NewRegistry()})
	mux := http.NewServeMux()
	mux.Handle("/", apiH)
	mux.HandleFunc("POST /api/v1/login", fakeLogin)
	return &roleUI{h: Handler(Config{API: mux, Auth: auth, Log: log, DirectoryLogin: directory}), reg: reg, log: buf, revoke: revoke}
}

// fakeLogin answers as the API's POST /api/v1/login does: olga with
// password "s3cret" gets the token "op"; vera is in no mapped group;
// user "down" finds the directory unreachable, "many" too many tries.
func fakeLogin(w http.ResponseWriter, r *http.Request) {
	var in struct{ User, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case in.User == "down":
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"directory ldaps://127.0.0.1:1: connection refused"}`))
	case in.User == "many":
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":"too many failed logins from 192.0.2.1: try again in 60s"}`))
	case in.Password != "s3cret":
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"wrong user name or password"}`))
	case in.User == "vera":
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"vera is in no group mapped to a role"}`))
	case in.User == "olga":
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"token":"op","expires":"2026-12-08T00:00:00Z","user":"olga"}`))
	}
}

// session logs in with token and returns the session's cookie and CSRF
// token.
func (ru *roleUI) session(t *testing.T, token string) (*http.Cookie, string) {
	t.Helper()
	c := sessionCookie(login(ru.h, url.Values{"token": {token}}, ""))
	if c == nil {
		t.Fatalf("no session for token %s", token)
	}
	return c, ru.csrf(t, c)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the session's CSRF token from a page, as a forged form
// in the session's own browser could.
func (ru *roleUI) csrf(t *testing.T, c *http.Cookie) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(ru.get(t, c, "/ui/templates"))
	if m == nil {
		t.Fatal("no CSRF field in the templates page")
	}
	return m[1]
}

func (ru *roleUI) get(t *testing.T, c *http.Cookie, path string) string {
	t.Helper()
	w := do(ru.h, "GET", path, nil, c)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body.String())
	}
	return w.Body.String()
}

// changes is how many changes history holds of the system name, the
// last one's author.
func (ru *roleUI) changes(t *testing.T, name string) (int, string) {
	t.Helper()
	hist, err := ru.reg.History(t.Context(), name, 100)
	if err != nil || len(hist) == 0 {
		t.Fatalf("history of %s: %v %v", name, hist, err)
	}
	return len(hist), hist[len(hist)-1].By
}

func has(t *testing.T, page, what string, want bool, wants ...string) {
	t.Helper()
	for _, s := range wants {
		if strings.Contains(page, s) != want {
			t.Errorf("%s: contains %q is %v, want %v", what, s, !want, want)
		}
	}
}
