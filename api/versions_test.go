package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/provision/provision/registry"
)

func req(t *testing.T, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	r, _ := http.NewRequest(method, url, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer tok")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp, b.String()
}

// GET answers an ETag; PUT and PATCH with a stale If-Match get 412 and
// change nothing; PATCH changes only the fields it names.
func TestETagIfMatch(t *testing.T) {
	srv := newTestServer(t)
	u := srv.URL + "/api/v1/subnets"
	if resp, body := req(t, "POST", u, `{"name":"lan","cidr":"10.0.0.0/24","gateway":"10.0.0.1"}`); resp.StatusCode != 201 {
		t.Fatalf("add: %d %s", resp.StatusCode, body)
	}
	resp, _ := req(t, "GET", u+"/lan", "")
	tag := resp.Header.Get("ETag")
	if len(tag) != 26 || tag[0] != '"' {
		t.Fatalf("ETag %q", tag)
	}
	// Someone else changes it: the tag read is stale.
	resp, _ = req(t, "PATCH", u+"/lan", `{"pool":"10.0.0.100-10.0.0.199"}`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag {
		t.Fatalf("patch: %d, ETag %q (was %q)", resp.StatusCode, resp.Header.Get("ETag"), tag)
	}
	fresh := resp.Header.Get("ETag")
	for _, c := range []struct{ method, body string }{
		{"PUT", `{"name":"lan","cidr":"10.0.0.0/24","gateway":"10.0.0.254"}`},
		{"PATCH", `{"gateway":"10.0.0.254"}`},
	} {
		resp, body := req(t, c.method, u+"/lan", c.body, "If-Match", tag)
		if resp.StatusCode != 412 || !strings.Contains(body, "subnet lan changed since it was read") {
			t.Errorf("%s with a stale If-Match: %d %s", c.method, resp.StatusCode, body)
		}
	}
	_, body := req(t, "GET", u+"/lan", "")
	var sub registry.Subnet
	json.Unmarshal([]byte(body), &sub)
	if sub.Gateway != "10.0.0.1" || sub.Pool != "10.0.0.100-10.0.0.199" {
		t.Fatalf("after refused edits: %+v", sub)
	}
	resp, body = req(t, "PATCH", u+"/lan", `{"gateway":"10.0.0.254","dns_servers":["10.0.0.2"]}`, "If-Match", fresh)
	json.Unmarshal([]byte(body), &sub)
	if resp.StatusCode != 200 || sub.Gateway != "10.0.0.254" || sub.Pool != "10.0.0.100-10.0.0.199" || len(sub.DNSServers) != 1 {
		t.Fatalf("patch with the current ETag: %d %s", resp.StatusCode, body)
	}
	resp, body = req(t, "PUT", u+"/lan", `{"name":"lan","cidr":"10.0.0.0/24"}`, "If-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 200 {
		t.Fatalf("put with the current ETag: %d %s", resp.StatusCode, body)
	}
	// null removes; unknown fields and non-objects are refused.
	for _, c := range []struct {
		body string
		code int
	}{{`{"nonsense":1}`, 400}, {`[1]`, 400}, {`{"cidr":"10.0.0.0/33"}`, 400}} {
		if resp, body := req(t, "PATCH", u+"/lan", c.body); resp.StatusCode != c.code {
			t.Errorf("patch %s: %d %s", c.body, resp.StatusCode, body)
		}
	}
	if resp, body := req(t, "PATCH", u+"/nosuch", `{"gateway":"10.0.0.1"}`); resp.StatusCode != 404 || !strings.Contains(body, "subnet nosuch not found") {
		t.Errorf("patch of a missing subnet: %d %s", resp.StatusCode, body)
	}
}

// Two clients editing different fields of one object at once both keep
// their change: the one that loses the race reads again.
func TestEditConcurrent(t *testing.T) {
	srv := newTestServer(t)
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	ctx := context.Background()
	if err := c.Do(ctx, "PUT", "/api/v1/settings/x", map[string]string{"value": "1"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "POST", "/api/v1/subnets", registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24"}, nil); err != nil {
		t.Fatal(err)
	}
	var a registry.Subnet
	tries := 0
	changed, err := c.Edit(ctx, "/api/v1/subnets/lan", "", &a, func() error {
		tries++
		if tries == 1 { // another client edits in between A's read and write
			var b registry.Subnet
			if _, err := c.Edit(ctx, "/api/v1/subnets/lan", "", &b, func() error { b.Pool = "10.0.0.100-10.0.0.110"; return nil }); err != nil {
				return err
			}
		}
		a.Gateway = "10.0.0.1"
		return nil
	})
	if err != nil || len(changed) != 1 || changed[0] != "gateway" || tries != 2 {
		t.Fatalf("edit: changed %v, %d tries, %v", changed, tries, err)
	}
	var got registry.Subnet
	c.Do(ctx, "GET", "/api/v1/subnets/lan", nil, &got)
	if got.Gateway != "10.0.0.1" || got.Pool != "10.0.0.100-10.0.0.110" {
		t.Fatalf("lost an edit: %+v", got)
	}
	// An edit that changes nothing sends nothing and writes no history.
	var hist []registry.Change
	c.Do(ctx, "GET", "/api/v1/history?name=lan", nil, &hist)
	n := len(hist)
	changed, err = c.Edit(ctx, "/api/v1/subnets/lan", "", &a, func() error { a.Gateway = "10.0.0.1"; return nil })
	c.Do(ctx, "GET", "/api/v1/history?name=lan", nil, &hist)
	if err != nil || changed != nil || len(hist) != n {
		t.Fatalf("no-op edit: changed %v, history %d -> %d, %v", changed, n, len(hist), err)
	}
}
