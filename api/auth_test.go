package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Reads need a token too: the read-only one reads, only the admin one
// writes or exports secrets, and history says which token and address
// made a change.
func TestTokens(t *testing.T) {
	srv := newTestServer(t)
	reads := []string{"/api/v1/export", "/api/v1/history", "/api/v1/systems", "/api/v1/settings",
		"/api/v1/events", "/api/v1/discovered", "/api/v1/subnets", "/api/v1/templates", "/metrics"}
	for _, p := range reads {
		for _, tok := range []string{"", "wrong", "tokx"} {
			if code, body := call(t, "GET", srv.URL+p, tok, ""); code != 401 || !strings.Contains(body, "API token") {
				t.Errorf("GET %s with token %q: %d %s; want 401", p, tok, code, body)
			}
		}
		for _, tok := range []string{"ro", "tok"} {
			if code, body := call(t, "GET", srv.URL+p, tok, ""); code != 200 {
				t.Errorf("GET %s with token %q: %d %s; want 200", p, tok, code, body)
			}
		}
	}
	if code, _ := call(t, "GET", srv.URL+"/healthz", "", ""); code != 200 {
		t.Errorf("/healthz without a token: %d", code)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/settings/a", `{"value":"1"}`},
		{"POST", "/api/v1/subnets", `{"name":"lan","cidr":"10.0.0.0/24"}`},
		{"DELETE", "/api/v1/settings/a", ``},
		{"GET", "/api/v1/export?secrets=1", ``},
	} {
		if code, body := call(t, c.method, srv.URL+c.path, "ro", c.body); code != 403 || !strings.Contains(body, "read-only (viewer) may not") {
			t.Errorf("%s %s with the read-only token: %d %s; want 403", c.method, c.path, code, body)
		}
	}
	if code, body := call(t, "PUT", srv.URL+"/api/v1/settings/a", "tok", `{"value":"1"}`); code != 200 {
		t.Fatalf("set with the admin token: %d %s", code, body)
	}
	if code, _ := call(t, "GET", srv.URL+"/api/v1/export?secrets=1", "tok", ""); code != 200 {
		t.Errorf("export with secrets, admin token: %d", code)
	}
	var hist []struct{ Name, Op, By, From string }
	c := &Client{BaseURL: srv.URL, Token: "ro"}
	if err := c.Do(context.Background(), "GET", "/api/v1/history?name=a", nil, &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].By != "admin" || hist[0].From != "127.0.0.1" {
		b, _ := json.Marshal(hist)
		t.Fatalf("history of a: %s; want one record by admin from 127.0.0.1", b)
	}
}
