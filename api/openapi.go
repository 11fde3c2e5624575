package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

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

// openAPIJSON is OpenAPI(), made when first asked for: a YAML decode that
// every start of the appliance would pay for (a sixth of its start-up
// under -race) though few ever ask.
var openAPIJSON = sync.OnceValues(OpenAPI)

// openAPI serves the description.
func (s *server) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := openAPIJSON()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
