package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// consoleAPI is an API seam that answers the console routes as their
// contract says (api/console.go), for web001 (with a BMC) and nobmc
// (without). Tokens: "adm" (admin), "view" (viewer), "op" (operator).
type consoleAPI struct {
	mu       sync.Mutex
	answer   string // the body of GET .../console; "" answers 501
	captures []string
	stream   apiStream // .../console/stream
}

const consoleReport = `{"system":{"name":%q,"macs":["52:54:00:00:00:0a"],"ip":"10.0.0.11","profile":"web","status":"installing"%s},
"loader":"ipxe","kernel_args":"","boot":"netboot","settings":[],"last_boot":[],"interfaces":[]}`

func (f *consoleAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		http.Error(w, `{"error":"no token"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path == "/api/v1/systems/web001/console/stream" {
		f.stream.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/api/v1/systems/web001/report":
		fmt.Fprintf(w, consoleReport, "web001", `,"bmc":{"address":"10.9.0.1","user":"admin"}`)
	case p == "/api/v1/systems/nobmc/report":
		fmt.Fprintf(w, consoleReport, "nobmc", "")
	case p == "/api/v1/fleet":
		w.Write([]byte(`{"total":1,"counts":{},"matched":0,"offset":0,"limit":100,"systems":[]}`))
	case p == "/api/v1/systems/web001":
		w.Write([]byte(`{"name":"web001","macs":["52:54:00:00:00:0a"],"ip":"10.0.0.11","profile":"web","status":"installing","bmc":{"address":"10.9.0.1","user":"admin"}}`))
	case p == "/api/v1/systems/web001/console" && r.URL.Query().Get("lines") != "":
		writeConsoleView(w, f.answer)
	case p == "/api/v1/systems/web001/console/capture" && r.Method == "POST":
		var in struct{ On bool }
		json.NewDecoder(r.Body).Decode(&in)
		f.captures = append(f.captures, fmt.Sprintf("%s on=%v", r.Header.Get("Authorization"), in.On))
		w.Write([]byte(`{"system":"web001","capturing":true,"why":["operator"]}`))
	default:
		w.Write([]byte(`[]`))
	}
}

// writeConsoleView answers GET .../console as the API does: the view
// answer, or 501 when it is "" (an appliance that captures no consoles).
func writeConsoleView(w http.ResponseWriter, answer string) {
	if answer == "" {
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte(`{"error":"this server captures no consoles"}`))
		return
	}
	w.Write([]byte(answer))
}

// apiStream is the API's console stream as the fakes answer it: each
// line sent on lines goes out at once as one Server-Sent Event, until
// the request ends; it keeps the query and the token it was asked with.
type apiStream struct {
	lines chan api.ConsoleLine
	mu    sync.Mutex
	query url.Values
	by    string
}

func (s *apiStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.query, s.by = r.URL.Query(), r.Header.Get("Authorization")
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := http.NewResponseController(w)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case l := <-s.lines:
			b, _ := json.Marshal(l)
			fmt.Fprintf(w, "data: %s\n\n", b)
			fl.Flush()
		}
	}
}

// newConsoleUI is the dashboard over the API f, with the tokens "adm"
// (admin), "view" (viewer) and "op" (operator).
func newConsoleUI(f http.Handler) http.Handler {
	people := map[string]access.Principal{
		"adm":  api.FileAdmin,
		"view": {Name: "vera", Role: access.Viewer},
		"op":   {Name: "olga", Role: access.Operator},
	}
	auth := func(tok string) (access.Principal, error) {
		if p, ok := people[tok]; ok {
			return p, nil
		}
		return access.Principal{}, &access.Denied{Msg: "wrong token"}
	}
	return Handler(Config{API: f, Auth: auth})
}

func consoleSession(t *testing.T, h http.Handler, token string) *http.Cookie {
	t.Helper()
	c := sessionCookie(login(h, url.Values{"token": {token}}, ""))
	if c == nil {
		t.Fatalf("no session for %s", token)
	}
	return c
}

func getPage(t *testing.T, h http.Handler, c *http.Cookie, path string) string {
	t.Helper()
	w := do(h, "GET", path, nil, c)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body.String())
	}
	return w.Body.String()
}

const hostileConsole = `{"status":{"system":"web001","capturing":true,"why":["installing"],"state":"open","since":"2026-12-07T08:00:00Z","bmc":"admin@10.9.0.1:623","last_error":"BMC 10.9.0.1 dropped the SOL session","reconnects":2},
"lines":[{"at":"2026-12-07T08:00:01.5Z","text":"Booting the kernel"},{"at":"2026-12-07T08:00:02.25Z","text":"<script>alert(1)</script> & <b>"}]}`

// The host page's Console panel shows the capture's state (why, the
// session, the BMC without a password, the last error, reconnects) and
// the recorded lines as text: a line that is a script is escaped; the
// live stream starts at the last line's time.
func TestConsolePanel(t *testing.T) {
	f := &consoleAPI{answer: hostileConsole}
	h := newConsoleUI(f)
	page := getPage(t, h, consoleSession(t, h, "view"), "/ui/systems/web001")
	has(t, page, "the console panel", true,
		`<h2 id="console">Console</h2>`,
		`<dd data-field="capturing">capturing for installing</dd>`,
		`open since 2026-12-07`, `reconnected 2 times`,
		`<dd class="mono">admin@10.9.0.1:623</dd>`,
		`BMC 10.9.0.1 dropped the SOL session`,
		`data-since="2026-12-07T08:00:02.25Z"`,
		`<span data-at="2026-12-07T08:00:01.5Z">Booting the kernel`+"\n</span>",
		`&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;`,
		`<script src="/ui/static/console.js" defer></script>`)
	has(t, page, "the console panel", false, `<script>alert(1)`, `<b>`, `console-never`, `console-none`)
}

// A viewer sees the console read-only; an operator gets Start capture,
// which asks the API as the operator and comes back to the panel, and
// Stop capture once the capture is the operator's.
func TestConsoleCaptureRights(t *testing.T) {
	f := &consoleAPI{answer: hostileConsole}
	h := newConsoleUI(f)
	viewer := getPage(t, h, consoleSession(t, h, "view"), "/ui/systems/web001")
	has(t, viewer, "the viewer's page", false, `id="capture-on"`, `id="capture-off"`)
	op := consoleSession(t, h, "op")
	page := getPage(t, h, op, "/ui/systems/web001")
	has(t, page, "the operator's page", true, `<input type="hidden" name="action" value="capture-on">`, `<button type="submit" id="capture-on">Start capture</button>`)
	has(t, page, "the operator's page", false, `id="capture-off"`, `href="/ui/systems/web001/confirm?action=capture-on"`)
	csrf := csrfField.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF field on the host page")
	}
	w := do(h, "POST", "/ui/systems/web001/action", url.Values{"csrf": {csrf[1]}, "action": {"capture-on"}, "confirm": {"web001"}}, op)
	if w.Code != http.StatusSeeOther || !strings.HasSuffix(w.Header().Get("Location"), "#console") || !strings.Contains(w.Header().Get("Location"), "Start+capture%3A+done") {
		t.Errorf("Start capture: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := do(h, "POST", "/ui/systems/web001/action", url.Values{"action": {"capture-on"}, "confirm": {"web001"}}, op); w.Code != http.StatusForbidden {
		t.Errorf("Start capture without the CSRF token: %d, want 403", w.Code)
	}
	f.mu.Lock()
	if got := strings.Join(f.captures, "|"); got != "Bearer op on=true" {
		t.Errorf("the API was asked %q, want one capture on as op", got)
	}
	f.answer = strings.Replace(hostileConsole, `"why":["installing"]`, `"why":["installing","operator"]`, 1)
	f.mu.Unlock()
	page = getPage(t, h, op, "/ui/systems/web001")
	has(t, page, "the operator's page while it captures", true, `<button type="submit" id="capture-off">Stop capture</button>`, `capturing for installing, operator`)
	has(t, page, "the operator's page while it captures", false, `id="capture-on"`)
	// The part console.js refreshes: the same, alone.
	part := getPage(t, h, op, "/ui/systems/web001/console/state")
	has(t, part, "the console's state", true, `<dd data-field="capturing">capturing for installing, operator</dd>`, `id="capture-off"`)
	has(t, part, "the console's state", false, `<html`, `console-lines`)
	if w := do(h, "GET", "/ui/systems/web001/console/state", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("the console's state without a session: %d, want 401", w.Code)
	}
}

// Without a console the panel says so in one line and the page is
// still the host's: an appliance that captures none (501), a system
// without a BMC; a console never captured says so and still follows the
// stream, where a capture's first lines will come.
func TestConsoleNone(t *testing.T) {
	f := &consoleAPI{}
	h := newConsoleUI(f)
	c := consoleSession(t, h, "op")
	page := getPage(t, h, c, "/ui/systems/web001")
	has(t, page, "no console (501)", true, `<p class="muted" id="console-none">This appliance captures no consoles.</p>`)
	has(t, page, "no console (501)", false, `id="console-lines"`, `capture-on`, `id="console-error"`)
	page = getPage(t, h, c, "/ui/systems/nobmc")
	has(t, page, "no BMC", true, `<p class="muted" id="console-none">nobmc has no BMC: the appliance cannot reach its serial console.</p>`)
	f.answer = `{"status":{"system":"web001","capturing":false},"lines":[]}`
	page = getPage(t, h, c, "/ui/systems/web001")
	has(t, page, "never captured", true, `id="console-never"`, `web001's console was never captured`, `id="console-lines"`, `id="capture-on"`)
	has(t, page, "never captured", false, `id="console-state"`)
}

// The dashboard's stream relays the API's console stream as the
// session, from the time the page asks: each line comes as the API sent
// it, at once; without a session it answers 401.
func TestConsoleStreamRelay(t *testing.T) {
	f := &consoleAPI{answer: hostileConsole, stream: apiStream{lines: make(chan api.ConsoleLine)}}
	h := newConsoleUI(f)
	if w := do(h, "GET", "/ui/systems/web001/console/stream", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("the console stream without a session: %d, want 401", w.Code)
	}
	checkRelay(t, h, "/ui/systems/web001/console/stream?since=2026-12-07T08%3A00%3A02.25Z&evil=1", "view", &f.stream,
		api.ConsoleLine{At: time.Date(2026, 12, 7, 8, 0, 3, 0, time.UTC), Text: "login: ", Partial: true},
		api.ConsoleLine{At: time.Date(2026, 12, 7, 8, 0, 4, 0, time.UTC), Text: "</pre><script>x()</script>"})
}

// openStream opens the dashboard's console stream at path on srv as the
// session c, failing the test unless it answers 200 with Server-Sent
// Events; the caller closes the body.
func openStream(t *testing.T, srv *httptest.Server, c *http.Cookie, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
	req.AddCookie(c)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("the console stream %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
	}
	return resp
}

// checkRelay opens the dashboard's console stream at path (on h, as
// token's session) and checks that each of lines, sent by the API's
// stream s, comes through at once as the API sent it, and that s was
// asked as the session with path's since and nothing else of its query.
func checkRelay(t *testing.T, h http.Handler, path, token string, s *apiStream, lines ...api.ConsoleLine) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp := openStream(t, srv, consoleSession(t, h, token), path)
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for _, l := range lines {
		s.lines <- l
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		var got api.ConsoleLine
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &got); err != nil || got != l {
			t.Errorf("the relay sent %q (%v), want %+v", line, err, l)
		}
		rd.ReadString('\n')
	}
	u, _ := url.Parse(path)
	want := url.Values{"since": {u.Query().Get("since")}}.Encode()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.query.Encode() != want || s.by != "Bearer "+token {
		t.Errorf("the API's stream behind %s was asked %q by %q, want %q only, by the session's %q", u.Path, s.query.Encode(), s.by, want, "Bearer "+token)
	}
}

// uiConsole is an api.Console of recorded lines and one live line, for
// the real API's routes.
type uiConsole struct {
	lines []console.Line
	live  string
}

func (c *uiConsole) Status(system string) (api.ConsoleStatus, bool) {
	return api.ConsoleStatus{System: system, Capturing: true, Why: []string{"pending"}, State: "connecting"}, true
}
func (c *uiConsole) Lines(string, time.Time) ([]console.Line, error) { return c.lines, nil }
func (c *uiConsole) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	ch := make(chan []byte, 1)
	ch <- []byte(c.live)
	return ch, nil
}
func (c *uiConsole) Attach(context.Context, string, io.Reader, io.Writer) error {
	return errors.New("no attach here")
}
func (c *uiConsole) Capture(context.Context, string, bool) error { return nil }

// Over the real API: the panel shows the console's lines cleaned of
// control sequences, and the relay passes the API's live lines.
func TestConsoleOverTheAPI(t *testing.T) {
	reg := registrytest.Seeded(t)
	if _, err := reg.AddSystem(t.Context(), registry.System{Name: "bmc1", MACs: []string{"02:00:00:00:33:01"}, IP: "10.0.0.33", Profile: "web", BMC: &registry.BMC{Address: "10.9.0.3"}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	fc := &uiConsole{lines: []console.Line{{At: at, Text: []byte("\x1b[31mred alert\x1b[0m\x1b]0;osc-payload\x07")}}, live: "live line\n"}
	auth := api.Tokens("adm", "")
	apiH := api.Handler(api.Config{Registry: reg, Auth: auth, Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry(), Console: fc})
	h := Handler(Config{API: apiH, Auth: auth})
	c := consoleSession(t, h, "adm")
	page := getPage(t, h, c, "/ui/systems/bmc1")
	has(t, page, "the panel over the API", true, `<span data-at="2026-12-07T08:00:00Z">red alert`+"\n</span>", `capturing for pending`, `connecting`)
	has(t, page, "the panel over the API", false, "\x1b", "osc-payload")
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp := openStream(t, srv, c, "/ui/systems/bmc1/console/stream")
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var l api.ConsoleLine
			if err := json.Unmarshal([]byte(data), &l); err != nil || l.Text != "live line" {
				t.Errorf("the relayed stream's first line: %s (%v)", data, err)
			}
			return
		}
	}
	t.Errorf("the relayed stream ended without a line: %v", sc.Err())
}
