package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
	"github.com/provision/provision/ui"
)

// consolePage is a system's host page open in a headless Chromium,
// signed in with a token, its Console panel following the console live.
type consolePage struct {
	t      *testing.T
	ctx    context.Context
	system string
}

// dashboardConsole opens system's host page of the dashboard at baseURL
// ("http://127.0.0.1:PORT") in Chromium, signs in with token, and returns
// once the Console panel's stream is live. Unlike browser, it sets no
// deadline of its own: a VM's install outlasts any. The end of t closes
// the browser (before the servers the test made earlier: cleanups run
// last first).
func dashboardConsole(t *testing.T, baseURL, token, system string) *consolePage {
	t.Helper()
	ctx := startBrowser(t)
	p := &consolePage{t: t, ctx: ctx, system: system}
	steps, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err := chromedp.Do(steps,
		chromedp.Navigate(baseURL+"/ui/systems/"+system), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("console-panel")))
	if err != nil {
		t.Fatalf("the dashboard's page of %s: %v", system, err)
	}
	if !p.live(steps) {
		panel, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("console-panel")))
		t.Fatalf("the Console panel of %s never went live: %q", system, panel)
	}
	return p
}

// live waits until the panel says its stream is open.
func (p *consolePage) live(ctx context.Context) bool {
	for ctx.Err() == nil {
		if st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("console-lines") || {dataset: {}}).dataset.state || ""`)); err == nil && st == "live" {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// shownLine is a line of the panel: its number (console.js numbers them
// as they are shown), its text, when it was shown or last grew (the
// page's clock, in ms since 1970) and whether the machine has not yet
// ended it.
type shownLine struct {
	N       int     `json:"n"`
	Text    string  `json:"text"`
	Shown   float64 `json:"shown"`
	Partial bool    `json:"partial"`
}

// WaitLine returns when a line of the panel matches pattern (a line
// shown before the call counts too), with the time it appeared in the
// page (console.js stamps each line as it inserts it; a line the
// machine had not ended, when it last grew), or an error naming the
// last lines shown after timeout. It looks every 50 ms.
func (p *consolePage) WaitLine(pattern *regexp.Regexp, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	from := 0
	var last []string
	for {
		lines, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]shownLine](fmt.Sprintf(`[...document.querySelectorAll("#console-lines > span")]
			.filter(e => +e.dataset.n > %d || e.dataset.partial === "1")
			.map(e => ({n: +e.dataset.n, text: e.textContent.replace(/\n$/, ""), shown: +e.dataset.shown, partial: e.dataset.partial === "1"}))`, from)))
		if err != nil {
			return time.Time{}, fmt.Errorf("the Console panel of %s: %w", p.system, err)
		}
		for _, l := range lines {
			if pattern.MatchString(l.Text) {
				return time.UnixMicro(int64(l.Shown * 1000)), nil
			}
			if !l.Partial {
				from = max(from, l.N)
			}
			last = append(last, l.Text)
		}
		last = last[max(0, len(last)-5):]
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("no line matching %q on the Console panel of %s after %v; its last lines: %q", pattern, p.system, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close closes the page and its browser.

// fakeConsole is an api.Console whose one system's live bytes the test
// sends (Emit), recorded as lines for Lines, without a BMC.
type fakeConsole struct {
	mu        sync.Mutex
	lines     []console.Line
	followers []chan []byte
}

func (f *fakeConsole) Status(system string) (api.ConsoleStatus, bool) {
	return api.ConsoleStatus{System: system, Capturing: true, Why: []string{"installing"}, State: "open", BMC: "admin@127.0.0.1:623"}, true
}

func (f *fakeConsole) Lines(system string, since time.Time) ([]console.Line, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, _ := slices.BinarySearchFunc(f.lines, since, func(l console.Line, t time.Time) int { return l.At.Compare(t) })
	return slices.Clone(f.lines[i:]), nil
}

func (f *fakeConsole) Follow(ctx context.Context, system string) (<-chan []byte, error) {
	ch := make(chan []byte, 64)
	f.mu.Lock()
	f.followers = append(f.followers, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.followers = slices.DeleteFunc(f.followers, func(c chan []byte) bool { return c == ch })
	}()
	return ch, nil
}

func (f *fakeConsole) Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error {
	return fmt.Errorf("the test's console of %s takes no operator", system)
}

func (f *fakeConsole) Capture(ctx context.Context, system string, on bool) error { return nil }

// Emit sends b as the console's next bytes to every follower and records
// its lines; it returns when it sent them.
func (f *fakeConsole) Emit(b string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, l := range strings.SplitAfter(b, "\n") {
		if strings.HasSuffix(l, "\n") {
			f.lines = append(f.lines, console.Line{At: now, Text: []byte(strings.TrimSuffix(l, "\n"))})
		}
	}
	for _, ch := range f.followers {
		ch <- []byte(b)
	}
	return now
}

// Drop ends every follower's stream, as an appliance that stops does.
func (f *fakeConsole) Drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.followers {
		close(ch)
	}
	f.followers = nil
}

func (f *fakeConsole) following() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.followers)
}

// The dashboard's Console panel in a real browser, over the real API and
// a fake console (no BMC, no VM): the recorded lines are on the page when
// it opens, each line the console then prints appears in the panel live
// (the delay from the console to the page is logged: the figure the VM
// test measures for real), a line ended only later appears as a partial
// line then completed, and a line that is a script is shown as text and
// runs nothing.
func TestDashboardConsoleInBrowser(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "chromium")
	reg := registrytest.Seeded(t)
	if _, err := reg.AddSystem(t.Context(), registry.System{Name: "vm", MACs: []string{"52:54:00:00:33:01"}, IP: "10.0.0.33", Profile: "web",
		BMC: &registry.BMC{Address: "127.0.0.1", User: "admin"}}); err != nil {
		t.Fatal(err)
	}
	fc := &fakeConsole{}
	fc.Emit("Booting the kernel\nearly console: <b>ttyS0</b>\n")
	const token = "console-test-admin-token"
	auth := api.Tokens(token, "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	apiH := api.Handler(api.Config{Registry: reg, Auth: auth, Log: log, Metrics: prometheus.NewRegistry(), Console: fc})
	mux := http.NewServeMux()
	mux.Handle("/", apiH)
	mux.Handle("/ui/", ui.Handler(ui.Config{API: apiH, Auth: auth, Log: log}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close) // after the page's browser closes (cleanups run last first), which ends its streams

	page := dashboardConsole(t, srv.URL, token, "vm")
	if _, err := page.WaitLine(regexp.MustCompile(`^early console: <b>ttyS0</b>$`), 10*time.Second); err != nil {
		t.Errorf("the recorded lines: %v", err)
	}
	for fc.following() == 0 {
		time.Sleep(10 * time.Millisecond) // the page's stream is open (live): its follower is too
	}
	var delays []time.Duration
	for i := range 20 {
		text := fmt.Sprintf("installer step %02d of 20", i+1)
		sent := fc.Emit(text + "\n")
		at, err := page.WaitLine(regexp.MustCompile("^"+text+"$"), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		delays = append(delays, at.Sub(sent))
	}
	slices.Sort(delays)
	t.Logf("from the console to the page (fake console, real API and dashboard, Chromium): median %v, max %v over %d lines",
		delays[len(delays)/2].Round(100*time.Microsecond), delays[len(delays)-1].Round(100*time.Microsecond), len(delays))
	if delays[0] < 0 {
		t.Errorf("a line appeared %v before it was sent: the page's clock is not the test's", delays[0])
	}

	// A prompt: shown after the API's 300 ms as a partial line, then
	// completed on the same line.
	fc.Emit("vm login: ")
	if _, err := page.WaitLine(regexp.MustCompile(`^vm login: $`), 10*time.Second); err != nil {
		t.Error(err)
	}
	fc.Emit("root\n")
	if _, err := page.WaitLine(regexp.MustCompile(`^vm login: root$`), 10*time.Second); err != nil {
		t.Error(err)
	}
	const xss = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	fc.Emit(xss + "\n")
	if _, err := page.WaitLine(regexp.MustCompile("^"+regexp.QuoteMeta(xss)+"$"), 10*time.Second); err != nil {
		t.Error(err)
	}
	n, err := chromedp.Run(page.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#console-lines img, #console-lines script").length`))
	if title, _ := chromedp.Run(page.ctx, chromedp.Title()); err != nil || n != 0 || title == "pwned" {
		t.Errorf("a console line became HTML: %d elements, title %q (%v)", n, title, err)
	}
	if _, err := chromedp.Run(page.ctx, chromedp.Evaluate[bool](`document.getElementById("console-panel").scrollIntoView(), true`)); err == nil {
		screenshot(t, page.ctx, "console-1280x800")
	}
	lines, err := chromedp.Run(page.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#console-lines > span").length`))
	if want := 2 + 20 + 1 + 1; err != nil || lines != want {
		t.Errorf("the panel holds %d lines (%v), want %d: none twice, the prompt and its answer one line", lines, err, want)
	}

	// The newest line stays in view until the reader scrolls up; then
	// new lines leave the view where it is. The page keeps 2000 lines.
	var many strings.Builder
	for i := range 2100 {
		fmt.Fprintf(&many, "bulk line %04d\n", i)
	}
	fc.Emit(many.String())
	if _, err := page.WaitLine(regexp.MustCompile(`^bulk line 2099$`), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	const atBottom = `(p => p.scrollTop + p.clientHeight >= p.scrollHeight - 8)(document.getElementById("console-lines"))`
	kept, err1 := chromedp.Run(page.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#console-lines > span").length`))
	bottom, err2 := chromedp.Run(page.ctx, chromedp.Evaluate[bool](atBottom))
	if kept != 2000 || !bottom || err1 != nil || err2 != nil {
		t.Errorf("after 2100 more lines the panel holds %d (want 2000), at the bottom %v (%v %v)", kept, bottom, err1, err2)
	}
	top, err := chromedp.Run(page.ctx, chromedp.Evaluate[int](`(p => (p.scrollTop = 100, p.scrollTop))(document.getElementById("console-lines"))`))
	fc.Emit("while scrolled up\n")
	if _, err := page.WaitLine(regexp.MustCompile(`^while scrolled up$`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	after, err3 := chromedp.Run(page.ctx, chromedp.Evaluate[int](`document.getElementById("console-lines").scrollTop`))
	if err != nil || err3 != nil || after > top {
		t.Errorf("scrolled up to %d, a new line moved the view to %d (%v %v)", top, after, err, err3)
	}

	// The stream ends: the panel says so, comes back from its last line
	// and shows the next ones, none twice.
	const state = `document.getElementById("console-lines").dataset.state`
	fc.Drop()
	saw := ""
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && saw != "reconnecting"; time.Sleep(20 * time.Millisecond) {
		saw, _ = chromedp.Run(page.ctx, chromedp.Evaluate[string](state))
	}
	if saw != "reconnecting" {
		t.Errorf("after the stream ended the panel says %q, want reconnecting", saw)
	}
	if !page.live(page.ctx) || fc.following() == 0 {
		t.Fatal("the panel did not reconnect")
	}
	fc.Emit("after the reconnect\n")
	if _, err := page.WaitLine(regexp.MustCompile(`^after the reconnect$`), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	dups, err := chromedp.Run(page.ctx, chromedp.Evaluate[[]string](`(() => { const seen = new Set(), d = []; for (const e of document.querySelectorAll("#console-lines > span")) { if (seen.has(e.textContent)) d.push(e.textContent); seen.add(e.textContent); } return d; })()`))
	if err != nil || len(dups) > 0 {
		t.Errorf("after the reconnect the panel shows lines twice: %q (%v)", dups, err)
	}
}
