package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// consoleServer serves a seeded registry (web001) with f as its consoles
// to the callers of principals (viewer, operator, admin...).
func consoleServer(t *testing.T, f Console) (*httptest.Server, *registry.Registry) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	reg := consoleHandler(t, srv, f)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, reg
}

// consoleHandler sets srv's handler: the API over a seeded registry with
// f as its consoles, checked against api/openapi.yaml.
func consoleHandler(t *testing.T, srv *httptest.Server, f Console) *registry.Registry {
	t.Helper()
	reg := registrytest.Seeded(t)
	who := principals(t)
	auth := func(tok string) (access.Principal, error) {
		if p, ok := who[tok]; ok {
			return p, nil
		}
		return access.Principal{}, errBadToken
	}
	srv.Config.Handler = validated(t, Handler(Config{Registry: reg, Auth: auth, Console: f,
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()}))
	return reg
}

// consoleClient is a Client of srv with a role's token.
func consoleClient(srv *httptest.Server, token string) *Client {
	return &Client{BaseURL: srv.URL, Token: token, HTTP: srv.Client()}
}

// at is a time n seconds after a fixed moment.
func at(n int) time.Time { return time.Date(2026, 12, 7, 8, 0, n, 0, time.UTC) }

// GET console answers the status and the last lines, text cleaned;
// ?lines= and ?since= narrow them, and bad values are refused naming what
// is wanted.
func TestConsoleLines(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := &fakeConsole{
		status: map[string]ConsoleStatus{"web001": {Capturing: true, Why: []string{"installing"}, State: "open", Bytes: 42}},
		lines: []console.Line{
			{At: now.Add(-2 * time.Hour), Text: []byte("old")},
			{At: now.Add(-time.Minute), Text: []byte("\x1b[1;31mKernel panic\x1b[0m")},
			{At: now.Add(-time.Second), Text: []byte("\x1b]52;c;aGk=\x07login: ")},
		},
	}
	srv, _ := consoleServer(t, f)
	cl := consoleClient(srv, "viewer")
	v, err := cl.ConsoleLines(t.Context(), "web001", "", 200)
	if err != nil {
		t.Fatal(err)
	}
	want := &ConsoleView{
		Status: ConsoleStatus{System: "web001", Capturing: true, Why: []string{"installing"}, State: "open", Bytes: 42},
		Lines:  []ConsoleLine{{At: now.Add(-2 * time.Hour), Text: "old"}, {At: now.Add(-time.Minute), Text: "Kernel panic"}, {At: now.Add(-time.Second), Text: "login: "}},
	}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("console of web001 (-want +got):\n%s", d)
	}
	for _, c := range []struct {
		since string
		n     int
		want  []string
	}{
		{"", 1, []string{"login: "}},
		{"10m", 200, []string{"Kernel panic", "login: "}},
		{now.Add(-30 * time.Second).Format(time.RFC3339Nano), 200, []string{"login: "}},
		{"", 0, nil},
	} {
		v, err := cl.ConsoleLines(t.Context(), "web001", c.since, c.n)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range v.Lines {
			got = append(got, l.Text)
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("since %q lines %d (-want +got):\n%s", c.since, c.n, d)
		}
	}
	srv2, _ := consoleServer(t, &fakeConsole{})
	v, err = consoleClient(srv2, "viewer").ConsoleLines(t.Context(), "web001", "", 10)
	if err != nil || v.Status.System != "web001" || v.Status.Capturing || v.Lines == nil || len(v.Lines) != 0 {
		t.Errorf("a console never captured: %+v %v; want its name, not capturing, no lines", v, err)
	}
	for _, c := range []struct{ query, want string }{
		{"lines=10001", "10001\\\": want a number from 0 to 10000"},
		{"lines=-1", "want a number from 0 to 10000"},
		{"since=yesterday", "yesterday\\\": want a duration (10m) or an RFC 3339 time"},
	} {
		if code, body := do(t, srv, "GET", "/api/v1/systems/web001/console?"+c.query, "viewer", ""); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("?%s: %d %s, want 400 %q", c.query, code, body, c.want)
		}
	}
}

// Every console route names the system it could not find, a console
// error is answered with its status and the system's name, and a server
// without consoles says so with 501.
func TestConsoleErrors(t *testing.T) {
	srv, _ := consoleServer(t, &fakeConsole{})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/systems/nosuch/console", ""},
		{"GET", "/api/v1/systems/nosuch/console/stream", ""},
		{"POST", "/api/v1/systems/nosuch/console/attach", ""},
		{"POST", "/api/v1/systems/nosuch/console/capture", `{"on": true}`},
	} {
		if code, body := do(t, srv, c.method, c.path, "admin", c.body); code != 404 || !strings.Contains(body, "system nosuch not found") {
			t.Errorf("%s %s: %d %s, want 404 naming nosuch", c.method, c.path, code, body)
		}
	}
	for _, c := range []struct {
		err  error
		want int
		msg  string
	}{
		{console.ErrTooMany, 503, "web001's console: too many SOL sessions"},
		{console.ErrAttached, 409, "another operator is attached to web001's console"},
		{console.ErrUnsupported, 502, "web001's console: the BMC does not offer serial-over-LAN"},
		{&registry.Error{Kind: registry.ErrInvalid, Msg: "system web001 has no BMC"}, 400, "system web001 has no BMC"},
		{fmt.Errorf("disk full"), 500, "web001's console: disk full"},
	} {
		srv, _ := consoleServer(t, &fakeConsole{err: c.err})
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/systems/web001/console", ""},
			{"GET", "/api/v1/systems/web001/console/stream", ""},
			{"POST", "/api/v1/systems/web001/console/attach", ""},
			{"POST", "/api/v1/systems/web001/console/capture", `{"on": true}`},
		} {
			if code, body := do(t, srv, r.method, r.path, "admin", r.body); code != c.want || !strings.Contains(body, c.msg) {
				t.Errorf("%s %s with %v: %d %s, want %d %q", r.method, r.path, c.err, code, body, c.want, c.msg)
			}
		}
	}
	srv, _ = consoleServer(t, nil)
	if code, body := do(t, srv, "GET", "/api/v1/systems/web001/console", "admin", ""); code != 501 || !strings.Contains(body, "this server captures no consoles") {
		t.Errorf("without consoles: %d %s", code, body)
	}
	srv, _ = consoleServer(t, &fakeConsole{})
	if code, body := do(t, srv, "POST", "/api/v1/systems/web001/console/capture", "admin", `{}`); code != 400 || !strings.Contains(body, `capture: give {\"on\": true}`) {
		t.Errorf("capture without on: %d %s", code, body)
	}
}

// Capture passes the operator's ask on and answers the status; a viewer
// may read consoles but neither capture nor attach, a scoped operator
// only its systems'.
func TestConsoleCaptureRights(t *testing.T) {
	f := &fakeConsole{}
	srv, _ := consoleServer(t, f)
	st, err := consoleClient(srv, "operator").CaptureConsole(t.Context(), "web001", true)
	if err != nil || !st.Capturing || st.System != "web001" {
		t.Fatalf("capture on: %+v %v", st, err)
	}
	if _, err := consoleClient(srv, "operator").CaptureConsole(t.Context(), "web001", false); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"web001 on", "web001 off"}, f.captures); d != "" {
		t.Errorf("captures (-want +got):\n%s", d)
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/v1/systems/web001/console/capture", "viewer", `{"on": true}`, 403},
		{"POST", "/api/v1/systems/web001/console/attach", "viewer", "", 403},
		{"GET", "/api/v1/systems/web001/console", "viewer", "", 200},
	} {
		if code, body := do(t, srv, c.method, c.path, c.token, c.body); code != c.want {
			t.Errorf("%s %s as %s: %d %s, want %d", c.method, c.path, c.token, code, body, c.want)
		}
	}
}

// Scoped callers read and use only the consoles of their systems.
func TestConsoleScope(t *testing.T) {
	srv, _ := rightsServerWith(t, &fakeConsole{})
	for _, c := range []struct {
		method, path, body string
		want               int
		reason             string
	}{
		{"GET", "/api/v1/systems/osaka1/console", "", 403, "may read systems of site tokyo only: osaka1 is of site osaka"},
		{"POST", "/api/v1/systems/osaka1/console/capture", `{"on": true}`, 403, "systems of site tokyo only: osaka1 is of site osaka"},
		{"GET", "/api/v1/systems/tokyo1/console", "", 200, ""},
		{"POST", "/api/v1/systems/tokyo1/console/capture", `{"on": true}`, 200, ""},
	} {
		if code, body := do(t, srv, c.method, c.path, "tokyo-op", c.body); code != c.want || !strings.Contains(body, c.reason) {
			t.Errorf("%s %s as tokyo-op: %d %s, want %d %q", c.method, c.path, code, body, c.want, c.reason)
		}
	}
}

// history is the notes of system's history with op "console".
func consoleNotes(t *testing.T, reg *registry.Registry, system string) []string {
	t.Helper()
	h, err := reg.History(context.Background(), system, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range h {
		if ch.Op == "console" {
			out = append(out, ch.Note+" ["+ch.By+"]")
		}
	}
	return out
}
