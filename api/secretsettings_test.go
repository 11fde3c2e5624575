package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry/registrytest"
)

// Issue 27, item 6: secret settings go in through the API at every level
// and come out of no read, history or export without the admin token's
// ?secrets=1; a template preview masks them unless an admin asks; a merge
// patch of other fields keeps them.
func TestSecretSettingsAPI(t *testing.T) {
	reg := registrytest.Seeded(t)
	registrytest.Must(t, func() error {
		_, err := reg.AddTemplate(context.Background(), kickstart.Template{Name: "sec", Kind: kickstart.KindScript,
			Text: "#!/bin/sh\nroot={{index .Secrets \"root.password-hash\"}}\nuser={{index .Secrets \"user.password-hash\"}}\n"})
		return err
	})
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: reg, Auth: Tokens("admin", "ro"),
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	t.Cleanup(srv.Close)
	const global, profile, system = "GLOBAL-5f2e8a", "PROFILE-3c9d1b", "SYSTEM-8a7b6c"
	for _, w := range []struct{ method, path, body string }{
		{"PUT", "settings/root.password-hash", `{"value":"` + global + `","secret":true}`},
		{"POST", "profiles", `{"name":"sec","image":"img","kickstart":"sec","secret_values":{"user.password-hash":"` + profile + `"}}`},
		{"POST", "systems", `{"name":"web002","macs":["aa:bb:cc:dd:ee:02"],"ip":"10.0.0.12","profile":"sec","secret_values":{"root.password-hash":"` + system + `"}}`},
		{"POST", "systems", `{"name":"web003","macs":["aa:bb:cc:dd:ee:03"],"ip":"10.0.0.13","profile":"sec"}`},
		{"PATCH", "systems/web002", `{"kernel_args":"quiet"}`},
		{"PATCH", "profiles/sec", `{"kernel_args":"quiet"}`},
	} {
		if code, body := call(t, w.method, srv.URL+"/api/v1/"+w.path, "admin", w.body); code >= 300 {
			t.Fatalf("%s %s: %d %s", w.method, w.path, code, body)
		}
	}
	secrets := []string{global, profile, system}
	for _, path := range []string{"settings", "settings/root.password-hash", "profiles", "profiles/sec", "systems", "systems/web002",
		"history", "export", "systems/web002/report", "templates/sec/render?system=web002",
		"export?secrets=0", "export?secrets=false", "settings/root.password-hash?secrets=0", "templates/sec/render?system=web002&secrets=0"} {
		for _, tok := range []string{"ro", "admin"} {
			code, body := call(t, "GET", srv.URL+"/api/v1/"+path, tok, "")
			if code != http.StatusOK {
				t.Errorf("GET %s (%s): %d %s", path, tok, code, body)
			}
			for _, v := range secrets {
				if strings.Contains(body, v) {
					t.Errorf("GET %s (%s) shows the secret %s:\n%s", path, tok, v, body)
				}
			}
		}
	}
	for path, want := range map[string][]string{
		"settings/root.password-hash?secrets=1":        {global},
		"export?secrets=1":                             {global, profile, system},
		"templates/sec/render?system=web002&secrets=1": {"root=" + system + "\nuser=" + profile},
		"templates/sec/render?system=web003&secrets=1": {"root=" + global + "\nuser=" + profile},
	} {
		if code, body := call(t, "GET", srv.URL+"/api/v1/"+path, "ro", ""); code != http.StatusForbidden {
			t.Errorf("GET %s with the read-only token: %d %s", path, code, body)
		}
		code, body := call(t, "GET", srv.URL+"/api/v1/"+path, "admin", "")
		for _, v := range want {
			if code != http.StatusOK || !strings.Contains(body, v) {
				t.Errorf("GET %s (admin): %d, want %q in:\n%s", path, code, v, body)
			}
		}
	}
	if _, body := call(t, "GET", srv.URL+"/api/v1/systems/web002", "ro", ""); !strings.Contains(body, `"secret_settings": {`+"\n"+`    "root.password-hash": ""`) {
		t.Errorf("a system's JSON does not name its secret keys:\n%s", body)
	}
	for sys, from := range map[string]string{"web002": "system", "web003": "global"} {
		want := `"key": "root.password-hash",` + "\n" + `      "value": "",` + "\n" + `      "from": "` + from + `",` + "\n" + `      "secret": true`
		if _, body := call(t, "GET", srv.URL+"/api/v1/systems/"+sys+"/report", "ro", ""); !strings.Contains(body, want) {
			t.Errorf("%s's report does not say its root hash is secret, from %s:\n%s", sys, from, body)
		}
	}
	if _, body := call(t, "GET", srv.URL+"/api/v1/settings", "ro", ""); !strings.Contains(body, `"secret": true`) {
		t.Errorf("the settings list does not mark the secret one:\n%s", body)
	}
	// What the CLI's edit sends: a value through secret_values, a removal
	// as null in the merge patch.
	for _, w := range []struct{ path, body string }{
		{"profiles/sec", `{"secret_values":{"user.password-hash":"PROFILE-NEW-1a2b"}}`},
		{"systems/web002", `{"secret_settings":{"root.password-hash":null}}`},
	} {
		if code, body := call(t, "PATCH", srv.URL+"/api/v1/"+w.path, "admin", w.body); code != http.StatusOK || strings.Contains(body, "PROFILE-NEW") {
			t.Fatalf("PATCH %s: %d %s", w.path, code, body)
		}
	}
	if _, body := call(t, "GET", srv.URL+"/api/v1/templates/sec/render?system=web002&secrets=1", "admin", ""); !strings.Contains(body, "root="+global+"\nuser=PROFILE-NEW-1a2b") {
		t.Errorf("after the patches, web002 gets:\n%s", body)
	}
	if code, body := call(t, "PUT", srv.URL+"/api/v1/settings/root.password-hash", "admin", `{"value":"x"}`); code != http.StatusBadRequest ||
		!strings.Contains(body, "global: setting root.password-hash is a secret setting") {
		t.Errorf("an ordinary value over a secret setting: %d %s", code, body)
	}
}
