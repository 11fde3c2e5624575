package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/registry/registrytest"
)

// A setting whose key looks like a secret needs ?public=1 (the CLI's
// --public) in every write of the API, as the registry rules it: the
// refusal keeps its status and text.
func TestSecretSettingsNeedPublic(t *testing.T) {
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: registrytest.Seeded(t), Auth: Tokens("tok", ""),
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	t.Cleanup(srv.Close)
	const tail = `, and settings are published to anyone in DNS and data.cdb: make it a secret setting (--secret, --set-secret), or give --public if it is not one"`
	for _, tt := range []struct {
		method, path, body string
		ok                 int
		refused            string
	}{
		{"PUT", "settings/db.password", `{"value":"x"}`, 200, `"error": "global: setting db.password looks like a secret (its name has \"password\")`},
		{"POST", "profiles", `{"name":"p2","image":"img","settings":{"ldap.secret":"x"}}`, 201, `"error": "profile p2: setting ldap.secret looks like a secret (its name has \"secret\")`},
		{"PUT", "profiles/p2", `{"name":"p2","image":"img","settings":{"ldap.secret":"y"}}`, 200, `"error": "profile p2: setting ldap.secret looks like a secret`},
		{"PATCH", "profiles/p2", `{"settings":{"ldap.secret":"z"}}`, 200, `"error": "profile p2: setting ldap.secret looks like a secret`},
		{"PATCH", "systems/web001", `{"settings":{"vpn.passwd":"x"}}`, 200, `"error": "system web001: setting vpn.passwd looks like a secret (its name has \"passwd\")`},
		{"PUT", "systems/web001", `{"name":"web001","macs":["aa:bb:cc:dd:ee:01"],"ip":"10.0.0.11","profile":"web","settings":{"vpn.passwd":"y"}}`, 200, `"error": "system web001: setting vpn.passwd looks like a secret`},
		{"POST", "systems", `{"name":"web009","macs":["aa:bb:cc:dd:ee:09"],"ip":"10.0.0.19","profile":"web","settings":{"api.token":"x"}}`, 201, `"error": "system web009: setting api.token looks like a secret (its name has \"token\")`},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			code, body := call(t, tt.method, srv.URL+"/api/v1/"+tt.path, "tok", tt.body)
			if code != http.StatusBadRequest || !strings.Contains(body, tt.refused) || !strings.Contains(body, tail) {
				t.Errorf("without ?public=1: %d %s", code, body)
			}
			if code, body := call(t, tt.method, srv.URL+"/api/v1/"+tt.path+"?public=1", "tok", tt.body); code != tt.ok {
				t.Errorf("with ?public=1: %d %s", code, body)
			}
			if code, body := call(t, tt.method, srv.URL+"/api/v1/"+tt.path, "tok", tt.body); tt.method != "POST" && code != tt.ok {
				t.Errorf("again, as it is: %d %s", code, body)
			}
		})
	}
}
