package ui

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/api"
)

// machineConsoleAPI is the discovery API (fakeDiscoveryAPI, its machine
// 52:54:00:00:29:01 also found by its serial SER-A) with the machines'
// console routes as the API answers them: GET .../console (answer; ""
// is 501) and .../console/stream (stream). It records what it was
// asked.
type machineConsoleAPI struct {
	mu     sync.Mutex
	answer string
	asked  []string // the console routes' paths and queries, with the token
	stream apiStream
}

const machinePath = "/api/v1/machines/52:54:00:00:29:01"

func (f *machineConsoleAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		http.Error(w, `{"error":"no token"}`, http.StatusUnauthorized)
		return
	}
	if r.Method == "GET" && r.URL.Path == machinePath+"/console/stream" {
		f.stream.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch p := r.URL.Path; {
	case r.Method == "GET" && p == "/api/v1/machines/SER-A":
		w.Write([]byte(machineJSON))
	case r.Method == "GET" && p == machinePath+"/console":
		f.asked = append(f.asked, r.Header.Get("Authorization")+" "+r.URL.RequestURI())
		writeConsoleView(w, f.answer)
	case strings.Contains(p, "/console"):
		http.Error(w, `{"error":"no such console route"}`, http.StatusNotFound)
	default:
		fakeDiscoveryAPI(new(api.AcceptInput)).ServeHTTP(w, r)
	}
}

const machineConsole = `{"status":{"system":"mac-525400002901","capturing":true,"why":["discovering"],"state":"open","since":"2026-12-07T08:00:00Z","bmc":"provision@10.0.1.41:623","reconnects":1},
"lines":[{"at":"2026-12-07T08:00:01.5Z","text":"provision-agent: enrolled the BMC"},{"at":"2026-12-07T08:00:02.25Z","text":"<img src=x onerror=alert(1)> & <b>"}]}`

// A discovered machine's page has the Console panel of the host page,
// read-only: the capture's state (why, the session, the BMC), the last
// 200 lines as text (a line that is markup is escaped), console.js
// following the machine's relay from the last line; no capture button
// even for an operator or the admin. A machine reached by its serial
// has its panel under its MAC.
func TestMachineConsolePanel(t *testing.T) {
	f := &machineConsoleAPI{answer: machineConsole}
	h := newConsoleUI(f)
	for _, tok := range []string{"view", "op", "adm"} {
		page := getPage(t, h, consoleSession(t, h, tok), "/ui/discovered/52:54:00:00:29:01")
		has(t, page, tok+"'s machine page", true,
			`data-field="disk-serial">SER-A-D1<`,
			`<h2 id="console">Console</h2>`,
			`<dd data-field="capturing">capturing for discovering</dd>`,
			`open since 2026-12-07`, `reconnected 1 times`,
			`<dd class="mono">provision@10.0.1.41:623</dd>`,
			`data-base="/ui/discovered/52:54:00:00:29:01/console"`,
			`data-since="2026-12-07T08:00:02.25Z"`,
			`aria-label="console of 52:54:00:00:29:01"`,
			`<span data-at="2026-12-07T08:00:01.5Z">provision-agent: enrolled the BMC`+"\n</span>",
			`&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;`,
			`<script src="/ui/static/console.js" defer></script>`)
		has(t, page, tok+"'s machine page", false, `<img src=x`, `<b>`, `capture-on`, `capture-off`, `/action"`,
			`console-never`, `console-none`, `console-error`)
	}
	page := getPage(t, h, consoleSession(t, h, "view"), "/ui/discovered/SER-A")
	has(t, page, "the machine's page by its serial", true, `data-base="/ui/discovered/52:54:00:00:29:01/console"`, `enrolled the BMC`)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.asked {
		if a != "Bearer view "+machinePath+"/console?lines=200" && a != "Bearer op "+machinePath+"/console?lines=200" && a != "Bearer adm "+machinePath+"/console?lines=200" {
			t.Errorf("the API's machine console was asked %q, want the last 200 lines as the session", a)
		}
	}
	if len(f.asked) != 4 {
		t.Errorf("the API's machine console was asked %d times for 4 pages: %q", len(f.asked), f.asked)
	}
}

// A machine never captured shows one line and still follows its
// stream (an enrolment starts a capture); an appliance that captures
// no consoles says so and follows nothing; the accept form and the
// inventory are there either way.
func TestMachineConsoleNone(t *testing.T) {
	f := &machineConsoleAPI{answer: `{"status":{"system":"mac-525400002901","capturing":false},"lines":[]}`}
	h := newConsoleUI(f)
	c := consoleSession(t, h, "op")
	page := getPage(t, h, c, "/ui/discovered/52:54:00:00:29:01")
	has(t, page, "never captured", true,
		`<p class="muted" id="console-never">No console recorded: the appliance reads a discovered machine's console once its BMC is enrolled.</p>`,
		`id="console-lines"`, `<h2 id="accept">Accept</h2>`, `data-field="disk-serial">SER-A-D1<`)
	has(t, page, "never captured", false, `id="console-state"`, `capture-on`, `was never captured`, `id="console-error"`)
	if n := strings.Count(page, "No console recorded"); n != 1 {
		t.Errorf("never captured: %d lines say No console recorded, want 1", n)
	}
	f.mu.Lock()
	f.answer = ""
	f.mu.Unlock()
	page = getPage(t, h, c, "/ui/discovered/52:54:00:00:29:01")
	has(t, page, "no console (501)", true, `<p class="muted" id="console-none">This appliance captures no consoles.</p>`, `<h2 id="accept">Accept</h2>`)
	has(t, page, "no console (501)", false, `id="console-lines"`, `console-never`, `id="console-error"`)
}

// The part console.js refreshes is the machine's status alone, asked
// as the session (with one line: a console never captured is told by
// it); a machine the API does not know is its 404, and without a
// session the answer is 401.
func TestMachineConsoleState(t *testing.T) {
	f := &machineConsoleAPI{answer: machineConsole}
	h := newConsoleUI(f)
	c := consoleSession(t, h, "view")
	part := getPage(t, h, c, "/ui/discovered/52:54:00:00:29:01/console/state")
	has(t, part, "the machine console's state", true, `<dd data-field="capturing">capturing for discovering</dd>`, `provision@10.0.1.41:623`)
	has(t, part, "the machine console's state", false, `<html`, `console-lines`, `enrolled the BMC`, `capture-on`)
	f.mu.Lock()
	if got := strings.Join(f.asked, "|"); got != "Bearer view "+machinePath+"/console?lines=1" {
		t.Errorf("the API's machine console was asked %q, want one line as view", got)
	}
	f.answer = `{"status":{"system":"mac-525400002901"},"lines":[]}`
	f.mu.Unlock()
	part = getPage(t, h, c, "/ui/discovered/52:54:00:00:29:01/console/state")
	has(t, part, "the state of a machine never captured", true, `No console recorded: the appliance reads`)
	if w := do(h, "GET", "/ui/discovered/52:54:00:00:29:02/console/state", nil, c); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "not found") {
		t.Errorf("the console's state of an unknown machine: %d %q, want the API's 404", w.Code, w.Body.String())
	}
	for _, p := range []string{"/ui/discovered/52:54:00:00:29:01/console/state", "/ui/discovered/52:54:00:00:29:01/console/stream"} {
		if w := do(h, "GET", p, nil, nil); w.Code != http.StatusUnauthorized {
			t.Errorf("%s without a session: %d, want 401", p, w.Code)
		}
	}
}

// The machine's relay passes the API's machine console stream as the
// session, from the time the page asks (nothing else of its query):
// each line as the API sent it, at once.
func TestMachineConsoleStreamRelay(t *testing.T) {
	f := &machineConsoleAPI{answer: machineConsole, stream: apiStream{lines: make(chan api.ConsoleLine)}}
	h := newConsoleUI(f)
	checkRelay(t, h, "/ui/discovered/52:54:00:00:29:01/console/stream?since=2026-12-07T08%3A00%3A02.25Z&lines=9", "view", &f.stream,
		api.ConsoleLine{At: time.Date(2026, 12, 7, 8, 0, 3, 0, time.UTC), Text: "agent> ", Partial: true},
		api.ConsoleLine{At: time.Date(2026, 12, 7, 8, 0, 4, 0, time.UTC), Text: "</pre><script>x()</script>"})
}

// The host page's panel follows its system's relay, as before.
func TestConsolePanelBase(t *testing.T) {
	h := newConsoleUI(&consoleAPI{answer: hostileConsole})
	page := getPage(t, h, consoleSession(t, h, "view"), "/ui/systems/web001")
	has(t, page, "the host page's panel", true, `data-base="/ui/systems/web001/console"`, `aria-label="console of web001"`)
}
