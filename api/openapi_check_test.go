package api

import (
	"context"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// loadSpec loads openapi.yaml and checks it is a valid OpenAPI document.
func loadSpec(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIYAML)
	if err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// validated serves h, and fails t when an answer does not fit the
// OpenAPI description: its status, content type, headers and body
// (JSON schema, 2020-12 for OpenAPI 3.1). Every API test serves through it.
func validated(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	return newSpecChecker(t).handler(h)
}

// specChecker checks answers against the description, and notes the
// operations it saw succeed.
type specChecker struct {
	t         testing.TB
	router    routers.Router
	mu        sync.Mutex
	succeeded map[string]bool // operationId: a 2xx answer fit the description
	// requests, if set, checks requests too (TestOpenAPITour's, which
	// are all meant to be right): what a generated client would send.
	requests bool
}

func newSpecChecker(t testing.TB) *specChecker {
	t.Helper()
	router, err := gorillamux.NewRouter(loadSpec(t))
	if err != nil {
		t.Fatalf("routes of api/openapi.yaml: %v", err)
	}
	return &specChecker{t: t, router: router, succeeded: map[string]bool{}}
}

func (c *specChecker) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.requests {
			c.checkRequest(r)
		}
		cw := &checkWriter{ResponseWriter: w, status: http.StatusOK}
		cw.onFlush = func() { c.check(r, cw) }
		h.ServeHTTP(cw, r)
		if !cw.checked {
			c.check(r, cw)
		}
	})
}

// missed lists the operations of ops that no 2xx answer fit.
func (c *specChecker) missed(ops []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, op := range ops {
		if !c.succeeded[op] {
			out = append(out, op)
		}
	}
	return out
}

// check checks one answer against the operation the spec has for its
// request. A request the spec has no operation for must have been
// refused before any handler (no token, no such route).
func (c *specChecker) check(r *http.Request, w *checkWriter) {
	w.checked = true
	route, params, err := c.router.FindRoute(asGet(r))
	if err != nil {
		switch w.status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMisdirectedRequest:
		default:
			c.t.Errorf("%s %s answered %d, but api/openapi.yaml has no such operation (%v)", r.Method, r.URL.Path, w.status, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: asGet(r), PathParams: params, Route: route},
		Status:                 w.status,
		Header:                 w.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(w.body.Bytes())
	fits := true
	if !decodable(w.Header().Get("Content-Type")) || r.Method == http.MethodHead {
		in.Options.ExcludeResponseBody = true
		fits = declared(c.t, route, r, w)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		fits = false
		c.t.Errorf("%s %s: the answer %d does not fit api/openapi.yaml: %v\nbody: %.500s", r.Method, r.URL.Path, w.status, err, w.body.String())
	} else if extra := undeclared(bodySchema(route, w), w.body.Bytes()); len(extra) > 0 {
		fits = false
		c.t.Errorf("%s %s: the answer %d has fields api/openapi.yaml does not describe: %v", r.Method, r.URL.Path, w.status, extra)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.succeeded[route.Operation.OperationID] = c.succeeded[route.Operation.OperationID] || fits && w.status < 300
}

// bodySchema is the schema the description gives an answer's body, or
// nil (none, or not JSON).
func bodySchema(route *routers.Route, w *checkWriter) *openapi3.Schema {
	resp := route.Operation.Responses.Status(w.status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	ctype := w.Header().Get("Content-Type")
	if resp == nil || resp.Value == nil || !strings.Contains(ctype, "json") {
		return nil
	}
	if mt := resp.Value.Content.Get(ctype); mt != nil && mt.Schema != nil {
		return mt.Schema.Value
	}
	return nil
}

// asGet is r, or for HEAD the same request as GET (HEAD answers GET's
// head; the spec describes GET).
func asGet(r *http.Request) *http.Request {
	if r.Method != http.MethodHead {
		return r
	}
	g := r.Clone(r.Context())
	g.Method = http.MethodGet
	return g
}

// decodable says whether kin-openapi can read a body of this type (JSON,
// YAML, text); the others (a tar archive, an event stream) are checked by
// their content type alone.
func decodable(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && openapi3filter.RegisteredBodyDecoder(mt) != nil
}

// declared fails t when an answer's content type is not among those the
// spec gives for its status.
func declared(t testing.TB, route *routers.Route, r *http.Request, w *checkWriter) bool {
	resp := route.Operation.Responses.Status(w.status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil || len(resp.Value.Content) == 0 {
		return true
	}
	if resp.Value.Content.Get(w.Header().Get("Content-Type")) == nil {
		t.Errorf("%s %s: the answer %d has content type %q, not one api/openapi.yaml gives", r.Method, r.URL.Path, w.status, w.Header().Get("Content-Type"))
		return false
	}
	return true
}
