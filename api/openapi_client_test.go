package api

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/registry/registrytest"
)

// oapiCodegen is the generator TestOpenAPIGoClient uses, as installed by
// `go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2`.
const oapiCodegen = "oapi-codegen"

// A Go client generated from the served description by oapi-codegen
// (types and client) compiles, and works against the API: it lists, adds,
// and reads an error answer. oapi-codegen is not Debian's: scripts/test
// installs it from the Go module proxy; without it the test skips on a
// laptop and fails under CI=true.
func TestOpenAPIGoClient(t *testing.T) {
	gen := testenv.NeedCommand(t, oapiCodegen)
	if testing.Short() {
		t.Skip("builds a module: not with -short")
	}
	spec, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("openapi.json", string(spec))
	write("go.mod", "module example.com/provisionclient\n\ngo 1.26\n")
	write("use_test.go", generatedClientUse)
	run(t, dir, gen, "-generate", "types,client", "-package", "provisionclient", "-o", "client.go", "openapi.json")
	run(t, dir, "go", "get", "github.com/oapi-codegen/runtime@v1.9.0")
	run(t, dir, "go", "mod", "tidy")
	run(t, dir, "go", "vet", "./...")
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: registrytest.Seeded(t), Auth: Tokens("tok", ""),
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	defer srv.Close()
	if out := run(t, dir, "go", "test", "-count=1", "-v", "-run", "TestGenerated", "-args", srv.URL); !strings.Contains(out, "--- PASS: TestGenerated") {
		t.Fatalf("the generated client's test did not run:\n%s", out)
	}
}

// generatedClientUse is a test of the generated client against the real
// API (its URL the first argument): it lists the seeded systems and adds
// a subnet, with the types generated from the description.
const generatedClientUse = `package provisionclient

import (
	"context"
	"net/http"
	"os"
	"testing"
)

func TestGenerated(t *testing.T) {
	bearer := WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer tok")
		return nil
	})
	c, err := NewClientWithResponses(os.Args[len(os.Args)-1], bearer)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	list, err := c.ListSystemsWithResponse(ctx, &ListSystemsParams{})
	if err != nil || list.JSON200 == nil || len(*list.JSON200) != 1 || (*list.JSON200)[0].Name != "web001" {
		t.Fatalf("systems: %v %s", err, list.Body)
	}
	pool := "10.9.0.100-10.9.0.110"
	add, err := c.AddSubnetWithResponse(ctx, Subnet{Name: "lab", Cidr: "10.9.0.0/24", Pool: &pool})
	if err != nil || add.JSON201 == nil || *add.JSON201.Pool != pool {
		t.Fatalf("add subnet: %v %s", err, add.Body)
	}
	bad, err := c.ShowSystemWithResponse(ctx, "nope")
	if err != nil || bad.StatusCode() != 404 || bad.JSONDefault == nil || bad.JSONDefault.Error == "" {
		t.Fatalf("a missing system: %v %s", err, bad.Body)
	}
}
`

// run runs a command in dir, and fails t with its output if it fails.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
