package registry

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/seal"
)

const hookSecret = "hook-secret-8c1f0e"

func TestHookValidation(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	ok := Hook{Name: "ci", URL: "https://hooks.example/x", Events: []string{HookSystemAdded}}
	for _, tc := range []struct {
		name string
		edit func(h *Hook)
		want string
	}{
		{"bad name", func(h *Hook) { h.Name = "a b" }, "hook name"},
		{"ftp", func(h *Hook) { h.URL = "ftp://x/" }, "http:// or https://"},
		{"no host", func(h *Hook) { h.URL = "http:///x" }, "with a host"},
		{"user in url", func(h *Hook) { h.URL = "https://u:pw@x/" }, "no user or password"},
		{"no events", func(h *Hook) { h.Events = nil }, "no events"},
		{"unknown event", func(h *Hook) { h.Events = []string{"system.exploded"} }, `"system.exploded": not one of`},
		{"bad glob", func(h *Hook) { h.SystemFilter = "web[" }, "system filter"},
	} {
		h := ok
		tc.edit(&h)
		err := r.AddHook(ctx, h)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalid with %q", tc.name, err, tc.want)
		}
	}
	must(t, func() error { return r.AddHook(ctx, ok) })
	if err := r.AddHook(ctx, ok); !errors.Is(err, ErrConflict) {
		t.Errorf("a second hook ci: %v", err)
	}
	if err := r.RemoveHook(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove a missing hook: %v", err)
	}
}

func TestHookWants(t *testing.T) {
	h := Hook{Events: []string{HookBuildFailed, HookPower}, SystemFilter: "web*"}
	for _, tc := range []struct {
		event, system string
		want          bool
	}{
		{HookBuildFailed, "web001", true}, {HookPower, "web9", true}, {HookBuildFailed, "db1", false},
		{HookSystemAdded, "web001", false}, {HookPower, "", false},
	} {
		if got := h.Wants(tc.event, tc.system); got != tc.want {
			t.Errorf("Wants(%s, %s) = %v", tc.event, tc.system, got)
		}
	}
	all := Hook{Events: []string{HookAll}}
	if !all.Wants(HookDiscovered, "") {
		t.Error("all does not take discovered")
	}
}

// The secret is sealed in the database, never in JSON, history or an
// export without secrets, and read back after a restart.
func TestHookSecretSealed(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	r.Close()
	key, err := seal.Create(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	r = reopenWithKey(t, path, key)
	must(t, func() error {
		return r.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAll}, Secret: hookSecret})
	})
	h, _ := r.Snapshot().Hook("ci")
	if !h.SecretSet || h.Secret != hookSecret {
		t.Fatalf("hook: %+v", h)
	}
	hist, _ := r.History(ctx, "ci", 5)
	exp, _ := r.Snapshot().Export(false)
	var stored string
	r.store.(*SQLStore).db.QueryRowContext(ctx, `SELECT secret FROM hooks`).Scan(&stored)
	for what, text := range map[string]string{"json": string(mustJSON(t, h)), "history": mustJSONString(t, hist), "export": string(exp), "column": stored} {
		if strings.Contains(text, hookSecret) {
			t.Errorf("%s holds the secret: %s", what, text)
		}
	}
	if !strings.Contains(string(mustJSON(t, h)), `"secret_set":true`) {
		t.Errorf("json does not say secret_set: %s", mustJSON(t, h))
	}
	if exp, _ := r.Snapshot().Export(true); !strings.Contains(string(exp), hookSecret) {
		t.Errorf("an export with secrets lacks it:\n%s", exp)
	}
	r.Close()
	r = reopenWithKey(t, path, key)
	if h, _ := r.Snapshot().Hook("ci"); h.Secret != hookSecret {
		t.Errorf("after a restart: %q", h.Secret)
	}
	// Export and import: an export without secrets keeps the hook's.
	exp, _ = r.Snapshot().Export(false)
	if _, err := r.Import(ctx, exp, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := r.Snapshot().Hook("ci"); h.Secret != hookSecret {
		t.Errorf("after an import without secrets: %q", h.Secret)
	}
}
