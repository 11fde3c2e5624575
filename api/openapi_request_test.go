package api

import (
	"bytes"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// checkRequest fails the test when r does not fit the description: its
// parameters and its body. The body is read and put back for the handler.
func (c *specChecker) checkRequest(r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.t.Errorf("%s %s: reading the body: %v", r.Method, r.URL.Path, err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		c.t.Errorf("%s %s: no such operation in api/openapi.yaml: %v", r.Method, r.URL.Path, err)
		return
	}
	probe := r.Clone(r.Context())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		c.t.Errorf("%s %s: the request does not fit api/openapi.yaml: %v\nbody: %.300s", r.Method, r.URL.Path, err, body)
	}
}
