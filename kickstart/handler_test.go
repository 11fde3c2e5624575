package kickstart

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// fakeBuilds holds builds by token; a callback ends the build, as the
// registry does.
type fakeBuilds struct {
	mu      sync.Mutex
	builds  map[string]Build
	byIP    map[netip.Addr]string
	calls   []string
	log     []byte
	logSize int64
}

func (f *fakeBuilds) ByToken(token string, _ netip.Addr) (Build, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.builds[token]
	return b, ok
}

func (f *fakeBuilds) ByIP(ip netip.Addr) (Build, bool) {
	f.mu.Lock()
	tok := f.byIP[ip]
	f.mu.Unlock()
	return f.ByToken(tok, ip)
}

func (f *fakeBuilds) end(call, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call+" "+f.builds[token].System)
	if _, ok := f.builds[token]; !ok {
		return fmt.Errorf("ended meanwhile: %w", ErrNoBuild)
	}
	if call != "started" {
		delete(f.builds, token)
	}
	return nil
}

func (f *fakeBuilds) Started(_ context.Context, token string) error { return f.end("started", token) }
func (f *fakeBuilds) Done(_ context.Context, token string) error    { return f.end("done", token) }
func (f *fakeBuilds) Failed(_ context.Context, token string, log []byte, size int64) error {
	f.mu.Lock()
	f.log, f.logSize = log, size
	f.mu.Unlock()
	return f.end("failed", token)
}

func newTestHandler(t *testing.T) (http.Handler, *fakeBuilds, *bytes.Buffer, *[]Event) {
	t.Helper()
	set, err := NewSet(Builtins(), []Template{{"inst", KindScript, "# {{.System.Name}}\n{{.URLs.Done}}\n"}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name, tmpl string) Build {
		d := SampleData()
		d.System.Name = name
		return Build{System: name, Token: "tok-" + name, Template: tmpl, Set: set, Data: d, Since: "2026-12-01T10:00:00Z"}
	}
	f := &fakeBuilds{builds: map[string]Build{"tok-web001": mk("web001", "inst"), "tok-web002": mk("web002", "ubuntu-autoinstall")},
		byIP: map[netip.Addr]string{netip.MustParseAddr("192.0.2.1"): "tok-web001"}}
	var logs bytes.Buffer
	var mu sync.Mutex
	events := &[]Event{}
	h, err := Handler(HandlerConfig{Builds: f, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		ServerURL: func(*http.Request) (string, error) { return "http://10.0.0.1", nil },
		OnEvent:   func(e Event) { mu.Lock(); *events = append(*events, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	return h, f, &logs, events
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.1:4000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	h, f, logs, events := newTestHandler(t)
	tests := []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/ks/tok-web001", "", 200, "# web001\nhttp://10.0.0.1/ks/tok-web001/done\n"},
		{"GET", "/ks", "", 200, "# web001\n"}, // by the client's address
		{"GET", "/ks/tok-web002/meta-data", "", 200, `instance-id: "web002-`},
		{"GET", "/ks/tok-web002/user-data", "", 200, "#cloud-config\n"},
		{"GET", "/ks/tok-web002/vendor-data", "", 200, ""},
		{"GET", "/ks/tok-nosuch", "", 404, "no such build"},
		{"GET", "/ks/tok-web001/nosuch", "", 404, "not found"},
		{"POST", "/ks/tok-web001", "", 405, ""},
		{"GET", "/ks/tok-web001/done", "", 405, "done takes POST"}, // a state change: POST only
		{"GET", "/ks/tok-web002/failed", "", 405, "failed takes POST"},
		{"POST", "/ks/tok-web001/done", "", 200, "web001 is installed"},
		{"GET", "/ks/tok-web001", "", 404, "no such build"}, // used
		{"POST", "/ks/tok-web001/done", "", 404, "no such build"},
		{"POST", "/ks/tok-web002/failed", strings.Repeat("a", MaxLog) + "TAIL", 200, "stored the last 65536 of 65540 bytes"},
		{"POST", "/ks/tok-web002/failed", "", 404, ""},
	}
	for _, tt := range tests {
		w := do(h, tt.method, tt.path, tt.body)
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tt.method, tt.path, w.Code, w.Body.String(), tt.code, tt.want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.log) != MaxLog || !strings.HasSuffix(string(f.log), "TAIL") || f.logSize != MaxLog+4 {
		t.Errorf("failed log: %d bytes of %d", len(f.log), f.logSize)
	}
	if strings.Contains(logs.String(), "tok-") {
		t.Errorf("a token is in the log:\n%s", logs)
	}
	if !strings.Contains(logs.String(), `msg="installer refused" client=192.0.2.1`) {
		t.Errorf("no refusal in the log:\n%s", logs)
	}
	var kinds []string
	for _, e := range *events {
		kinds = append(kinds, e.Kind+":"+e.System)
	}
	if got := strings.Join(kinds, ","); got != "template:web001,template:web001,template:web002,done:web001,failed:web002" {
		t.Errorf("events: %s", got)
	}
}

// A done callback's body is its summary, on the timeline: bounded and
// stripped of control characters.
func TestDoneSummary(t *testing.T) {
	h, _, _, events := newTestHandler(t)
	body := "disk vda 8192 MiB\x1b[31m, 3 partitions\n" + strings.Repeat("x", 2*MaxSummary)
	if w := do(h, "POST", "/ks/tok-web001/done", body); w.Code != 200 {
		t.Fatalf("done: %d %s", w.Code, w.Body)
	}
	if len(*events) != 1 {
		t.Fatalf("events %+v", *events)
	}
	d := (*events)[0].Detail
	if !strings.HasPrefix(d, "installed: disk vda 8192 MiB[31m, 3 partitions") || strings.ContainsAny(d, "\x1b\n") || len(d) > MaxSummary+len("installed: ") {
		t.Errorf("detail %q", d)
	}
}

func TestReadTail(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 25, 1 << 16} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte('a' + i%26)
		}
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		got, size, err := readTail(r, 10, 1<<20)
		want := body[max(0, n-10):]
		if err != nil || size != int64(n) || !bytes.Equal(got, want) {
			t.Errorf("n=%d: %q %d %v, want %q", n, got, size, err, want)
		}
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 100)))
	if _, size, _ := readTail(r, 10, 50); size != 50 {
		t.Errorf("a body over the read limit: size %d, want 50", size)
	}
}
