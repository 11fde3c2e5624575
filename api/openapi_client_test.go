package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// oapiCodegen is the generator TestOpenAPIGoClient uses, as installed by
// `go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2`.
const oapiCodegen = "oapi-codegen"

// A Go client generated from the served description by oapi-codegen
// (types and client) compiles. It is not Debian's, so not in scripts/test:
// without it on PATH the test skips, in CI too.
func TestOpenAPIGoClient(t *testing.T) {
	gen, err := exec.LookPath(oapiCodegen)
	if err != nil {
		t.Skip("oapi-codegen not on PATH: go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2")
	}
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
	run(t, dir, gen, "-generate", "types,client", "-package", "provisionclient", "-o", "client.go", "openapi.json")
	run(t, dir, "go", "get", "github.com/oapi-codegen/runtime@v1.9.0")
	run(t, dir, "go", "mod", "tidy")
	run(t, dir, "go", "vet", "./...")
}

// run runs a command in dir and fails t with its output if it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
