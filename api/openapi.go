package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"
)

// OpenAPIPath is where the API's OpenAPI 3.1 description is served, to
// anyone: it holds no data, and a client generator must read it first.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIYAML is the description (openapi.yaml), kept as YAML for its
// comments and served as JSON.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the API's OpenAPI 3.1 description as JSON.
func OpenAPI() ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml as JSON: %w", err)
	}
	return b, nil
}

// openAPI serves the description made once by Handler.
func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	if s.openapiErr != nil {
		writeError(w, http.StatusInternalServerError, s.openapiErr.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
}
