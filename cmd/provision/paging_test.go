package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/registry"
)

// The CLI reads the paged lists to the end: system list --discovered
// follows the Link of every page, and history reads pages back in time
// until it has --limit records. The fake server's pages are of 3.
func TestCLIFollowsPages(t *testing.T) {
	const page = 3
	var history []registry.Change
	for i := range 10 {
		history = append(history, registry.Change{ID: int64(i + 1), At: time.Date(2026, 12, 6, 10, i, 0, 0, time.UTC).Format(time.RFC3339Nano), Kind: "setting", Name: "k", Op: "set", New: fmt.Sprint(i)})
	}
	var seen []registry.Discovered
	for i := range 8 {
		seen = append(seen, registry.Discovered{MAC: fmt.Sprintf("02:00:00:00:00:%02x", i), IP: "10.0.0.200", Subnet: "lan"})
	}
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		switch r.URL.Path {
		case "/api/v1/discovered":
			from, _ := strconv.Atoi(r.URL.Query().Get("after"))
			to := min(from+page, len(seen))
			if to < len(seen) {
				w.Header().Set("Link", fmt.Sprintf(`</api/v1/discovered?after=%d>; rel="next"`, to))
			}
			json.NewEncoder(w).Encode(seen[from:to])
		case "/api/v1/history":
			before, _ := strconv.Atoi(r.URL.Query().Get("before"))
			if before == 0 {
				before = len(history) + 1
			}
			from := max(before-1-page, 0)
			if from > 0 {
				w.Header().Set("Link", fmt.Sprintf(`</api/v1/history?before=%d>; rel="next"`, from+1))
			}
			json.NewEncoder(w).Encode(history[from : before-1])
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	run := func(args ...string) string {
		t.Helper()
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(append(args, "--server", srv.URL))
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	t.Setenv("PROVISION_TOKEN", "tok")
	out := run("system", "list", "--discovered")
	for _, d := range seen {
		if !strings.Contains(out, d.MAC) {
			t.Errorf("system list --discovered lacks %s (on a later page):\n%s", d.MAC, out)
		}
	}
	requests = 0
	out = run("history", "--limit", "7")
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		got = append(got, strings.Fields(l)[0])
	}
	if len(got) != 7 || !strings.HasPrefix(got[0], "2026-12-06T10:03:00") || !strings.HasPrefix(got[6], "2026-12-06T10:09:00") || requests != 3 {
		t.Errorf("history --limit 7 in pages of 3: %d requests\n%s", requests, out)
	}
}
