package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
)

// The description is a valid OpenAPI 3.1 document, and every operation
// has an id (client generators name their functions by it).
func TestOpenAPIDocument(t *testing.T) {
	doc := loadSpec(t)
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %s", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
		}
	}
}

// Every route of the API's mux is in the description, and the
// description has no operation the mux does not route.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadSpec(t)
	routes := muxRoutes(t)
	if len(routes) < 60 {
		t.Fatalf("found %d routes in package api's source: the test no longer sees how routes are registered", len(routes))
	}
	for _, p := range routes {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method: the description has one operation per method", p)
			continue
		}
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in api/openapi.yaml: describe it there (its parameters, request body, answers)", p)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !slices.Contains(routes, method+" "+path) {
				t.Errorf("api/openapi.yaml describes %s %s, which the API does not route", method, path)
			}
		}
	}
}

// The description is served, as JSON, without a token; everything else
// still needs one.
func TestOpenAPIServed(t *testing.T) {
	srv := newTestServer(t)
	resp, err := http.Get(srv.URL + OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s without a token: %d %s", OpenAPIPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	served, err := loader.LoadFromData(body)
	if err != nil {
		t.Fatalf("the served description does not load: %v", err)
	}
	if err := served.Validate(loader.Context); err != nil {
		t.Fatalf("the served description is not valid: %v", err)
	}
	if d := cmp.Diff(operations(loadSpec(t)), operations(served)); d != "" {
		t.Errorf("served operations differ from api/openapi.yaml's (-yaml +served):\n%s", d)
	}
	want, _ := json.Marshal(loadSpec(t))
	got, _ := json.Marshal(served)
	if string(want) != string(got) || bytes.Contains(body, []byte(`"<<"`)) {
		t.Errorf("the served description is not api/openapi.yaml's (a YAML anchor or merge key lost?)")
	}
	for _, p := range []string{"/api/v1/whoami", "/api/v1/openapi.json/../systems", "/api/v1/openapi.jsonx"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d, want 401", p, resp.StatusCode)
		}
	}
}

// operations lists a description's "METHOD PATH", sorted.
func operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}
