package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry/registrytest"
)

// emitConsole is an api.Console whose consoles all print what the test
// emits (recorded as lines, sent to every follower); it records the
// console names it was asked for.
type emitConsole struct {
	mu        sync.Mutex
	lines     []console.Line
	followers []chan []byte
	names     []string
}

func (c *emitConsole) asked(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.names, name) {
		c.names = append(c.names, name)
	}
}

func (c *emitConsole) Status(name string) (api.ConsoleStatus, bool) {
	c.asked(name)
	return api.ConsoleStatus{Capturing: true, Why: []string{"discovering"}, State: "open", BMC: "provision@10.0.1.41:623"}, true
}

func (c *emitConsole) Lines(name string, since time.Time) ([]console.Line, error) {
	c.asked(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.lines), nil
}

func (c *emitConsole) Follow(ctx context.Context, name string) (<-chan []byte, error) {
	c.asked(name)
	ch := make(chan []byte, 64)
	c.mu.Lock()
	c.followers = append(c.followers, ch)
	c.mu.Unlock()
	go func() {
		<-ctx.Done()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.followers = slices.DeleteFunc(c.followers, func(f chan []byte) bool { return f == ch })
	}()
	return ch, nil
}

func (c *emitConsole) Attach(context.Context, string, io.Reader, io.Writer) error {
	return errors.New("a machine's console takes no operator")
}
func (c *emitConsole) Capture(context.Context, string, bool) error {
	return errors.New("a machine's console has no operator's capture")
}

// Emit records b's ended lines and sends b to every follower.
func (c *emitConsole) Emit(b string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range strings.SplitAfter(b, "\n") {
		if t, ok := strings.CutSuffix(l, "\n"); ok {
			c.lines = append(c.lines, console.Line{At: time.Now(), Text: []byte(t)})
		}
	}
	for _, ch := range c.followers {
		ch <- []byte(b)
	}
}

func (c *emitConsole) following() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.followers)
}

const discoveredMAC = "52:54:00:00:33:02"

// machineOverAPI is the dashboard and the real API, over a registry
// with one discovered machine (discoveredMAC, serial SER-33) and c, on
// one server; the admin's token is "adm".
func machineOverAPI(t *testing.T, c api.Console) (http.Handler, *httptest.Server) {
	t.Helper()
	reg := registrytest.Seeded(t)
	inv := inventory.Inventory{MAC: discoveredMAC, DMI: inventory.DMI{Vendor: "QEMU", Product: "Standard PC", Serial: "SER-33"}}
	if _, err := reg.ReportInventory(t.Context(), inv, "lan", "10.0.0.202"); err != nil {
		t.Fatal(err)
	}
	auth := api.Tokens("adm", "")
	log := slog.New(slog.DiscardHandler)
	apiH := api.Handler(api.Config{Registry: reg, Auth: auth, Log: log, Metrics: prometheus.NewRegistry(), Console: c})
	h := Handler(Config{API: apiH, Auth: auth, Log: log})
	mux := http.NewServeMux()
	mux.Handle("/", apiH)
	mux.Handle("/ui/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return h, srv
}

// Over the real API: the machine's page reads the console the API names
// for its MAC (api.MachineConsoleName), its lines cleaned of control
// sequences, and so does the part console.js refreshes; an unknown
// machine's part is the API's 404.
func TestMachineConsoleOverTheAPI(t *testing.T) {
	fc := &emitConsole{}
	fc.Emit("\x1b[1mprovision-agent\x1b[0m: BMC enrolled\x1b]0;osc-payload\x07\n")
	h, _ := machineOverAPI(t, fc)
	c := consoleSession(t, h, "adm")
	for _, p := range []string{"/ui/discovered/" + discoveredMAC, "/ui/discovered/SER-33"} {
		page := getPage(t, h, c, p)
		has(t, page, p, true, `capturing for discovering`, `provision-agent: BMC enrolled`+"\n</span>",
			`data-base="/ui/discovered/`+discoveredMAC+`/console"`)
		has(t, page, p, false, "\x1b", "osc-payload", "capture-on")
	}
	part := getPage(t, h, c, "/ui/discovered/"+discoveredMAC+"/console/state")
	has(t, part, "the machine console's state", true, `<dd class="mono">provision@10.0.1.41:623</dd>`)
	if w := do(h, "GET", "/ui/discovered/52:54:00:00:33:03/console/state", nil, c); w.Code != http.StatusNotFound {
		t.Errorf("the console's state of an unknown machine: %d, want 404\n%s", w.Code, w.Body.String())
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if want := []string{api.MachineConsoleName(discoveredMAC)}; !slices.Equal(fc.names, want) {
		t.Errorf("the API read the consoles %q, want %q", fc.names, want)
	}
}

// The machine's panel in Chromium, over the real API: the recorded line
// is there, the panel goes live on the machine's relay, a line the
// console prints then appears, as text (a script in it runs nothing).
func TestMachineConsoleInBrowser(t *testing.T) {
	bin := testenv.NeedCommand(t, "chromium")
	fc := &emitConsole{}
	fc.Emit("provision-agent: BMC enrolled\n")
	_, srv := machineOverAPI(t, fc)
	alloc, cancelAlloc := chromedp.NewExecAllocator(t.Context(), chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true))
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/ui/discovered/"+discoveredMAC), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "adm"), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("console-panel")))
	if err != nil {
		t.Fatalf("the machine's page: %v", err)
	}
	// wait polls the page's expression until it is want.
	wait := func(what, expr, want string) {
		t.Helper()
		var got string
		for ctx.Err() == nil {
			var err error
			if got, err = chromedp.Run(ctx, chromedp.Evaluate[string](expr)); err == nil && got == want {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: %q, want %q", what, got, want)
	}
	wait("the panel", `document.getElementById("console-lines").dataset.state`, "live")
	for fc.following() == 0 {
		time.Sleep(10 * time.Millisecond) // the page's stream is open: its follower is too
	}
	const xss = `<img src=x onerror="document.title='pwned'">`
	fc.Emit("agent: inventory sent\n" + xss + "\n")
	lines := `[...document.querySelectorAll("#console-lines > span")].map(e => e.textContent).join("")`
	wait("the panel's lines", lines, "provision-agent: BMC enrolled\nagent: inventory sent\n"+xss+"\n")
	if title, err := chromedp.Run(ctx, chromedp.Title()); err != nil || title == "pwned" {
		t.Errorf("the page's title %q (%v): a console line ran as markup", title, err)
	}
}
