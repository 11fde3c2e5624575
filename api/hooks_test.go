package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/provision/provision/webhook"
)

// hookSteps are TestOpenAPITour's calls of the hooks' routes, against a
// receiver that takes everything (it lives as long as the test binary).
func hookSteps() []tourStep {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	return []tourStep{
		{"POST", "/api/v1/hooks", `{"name":"h1","url":"` + rcv.URL + `","events":["build.failed","power"],"system_filter":"db*","secret":"k"}`, 201, nil},
		{"GET", "/api/v1/hooks", "", 200, nil},
		{"GET", "/api/v1/hooks/h1", "", 200, nil},
		{"POST", "/api/v1/hooks/h1/test", "", 200, nil},
		{"GET", "/api/v1/hooks/h1/deliveries?limit=10", "", 200, nil},
		{"DELETE", "/api/v1/hooks/h1", "", 204, nil},
	}
}

// A hook's secret goes in and never comes out; a bad hook is a 400
// naming what is wrong; hook test POSTs a signed test event, and a
// receiver that refuses it is a 502 naming the hook and the status.
func TestHooksAPI(t *testing.T) {
	srv := newTestServer(t)
	var sigOK, refuse atomic.Bool
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sigOK.Store(webhook.Verify("hunter22", body, r.Header.Get("X-Provision-Signature")) && r.Header.Get("X-Provision-Event") == "test")
		if refuse.Load() {
			http.Error(w, "no", http.StatusForbidden)
		}
	}))
	defer rcv.Close()
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v1/hooks", `{"name":"ci","url":"` + rcv.URL + `","events":["all"],"secret":"hunter22"}`, 201, `"secret_set": true`},
		{"POST", "/api/v1/hooks", `{"name":"bad","url":"gopher://x","events":["all"]}`, 400, "http:// or https://"},
		{"POST", "/api/v1/hooks", `{"name":"bad","url":"http://x/","events":["system.exploded"]}`, 400, "system.exploded"},
		{"GET", "/api/v1/hooks/ci", "", 200, `"secret_set": true`},
		{"GET", "/api/v1/hooks", "", 200, `"name": "ci"`},
		{"GET", "/api/v1/export", "", 200, "name: ci"},
		{"POST", "/api/v1/hooks/ci/test", "", 200, `"hook": "ci"`},
		{"GET", "/api/v1/hooks/nope/deliveries", "", 404, "hook nope not found"},
		{"GET", "/api/v1/hooks/ci/deliveries?limit=0", "", 400, "limit"},
		{"GET", "/api/v1/hooks/ci/deliveries", "", 200, "[]"},
	} {
		status, body := callAPI(t, srv, "tok", c.method, c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, status, body, c.status, c.want)
		}
		if strings.Contains(body, "hunter22") {
			t.Errorf("%s %s answers the secret: %s", c.method, c.path, body)
		}
	}
	if !sigOK.Load() {
		t.Error("the test event was not signed with the hook's secret")
	}
	refuse.Store(true)
	if status, body := callAPI(t, srv, "tok", "POST", "/api/v1/hooks/ci/test", ""); status != 502 || !strings.Contains(body, "hook ci") || !strings.Contains(body, "403") {
		t.Errorf("a refusing receiver: %d %s", status, body)
	}
}
