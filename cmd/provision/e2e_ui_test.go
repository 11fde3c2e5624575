package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/provision/provision/internal/testenv"
)

// artifactDir is where browser tests leave their screenshots for a
// person to look at: $PROVISION_ARTIFACTS, else a directory under the
// system's temporary one that outlives the test.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("PROVISION_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "provision-artifacts")
	}
	dir = filepath.Join(dir, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts Debian's chromium, headless, at 1280x800, for at most
// 3 minutes.
func browser(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(startBrowser(t), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startBrowser starts Debian's chromium, headless, at 1280x800, until t
// ends (it closes in t's cleanups), with no deadline of its own.
func startBrowser(t testing.TB) context.Context {
	t.Helper()
	bin := testenv.NeedCommand(t, "chromium")
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true))
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(alloc)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, for as long as ctx
		t.Fatalf("chromium did not start: %v", err)
	}
	return ctx
}

// do runs steps in the tab, failing t with what on an error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action in the tab and returns its value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	path := filepath.Join(artifactDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// The dashboard in a real browser: the login form takes the admin token
// once and keeps it out of URLs, pages and scripts (an HttpOnly,
// SameSite=Strict session cookie); the fleet shows the right counts; a
// host shows its boot timeline, settings (a script in a setting shows as
// text, no dialog opens) and history; a build callback moves the host to
// installed while the page is open, without a reload; netboot off through
// its confirmation is done and recorded in history as the admin's; a form
// without the CSRF token is refused; and with the read-only token the
// same action is refused. Screenshots at 1280x800 and at a phone's width
// are left in the artifact directory.
func TestDashboardInBrowser(t *testing.T) {
	defer parallel(t)()
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k")
	os.WriteFile(kernel, []byte("kernel"), 0o644)
	tpl := filepath.Join(dir, "inst.sh")
	os.WriteFile(tpl, []byte("#!/bin/sh\n# {{.System.Name}}\nwget {{.URLs.Done}}\n"), 0o644)
	s.ok("subnet", "add", "lan", "--cidr", "10.0.0.0/24")
	s.ok("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	s.ok("template", "add", "inst", "--kind", "script", "--file", tpl)
	s.ok("profile", "add", "inst", "--image", "img", "--kickstart", "inst")
	s.ok("profile", "add", "web", "--image", "img")
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24") // the builds are handed to their machines' addresses only
	s.ok("system", "add", "inst1", "--mac", "02:00:00:00:00:01", "--ip", "127.0.0.11", "--profile", "inst")
	s.ok("system", "add", "inst2", "--mac", "02:00:00:00:00:02", "--ip", "127.0.0.12", "--profile", "inst")
	for i, name := range []string{"web1", "web2", "web3"} {
		s.ok("system", "add", name, "--mac", "02:00:00:00:01:0"+string(rune('1'+i)), "--ip", "10.0.0.2"+string(rune('1'+i)), "--profile", "web")
	}
	const xss = "<script>alert(1)</script>"
	s.ok("system", "edit", "inst1", "--set", "note="+xss)
	tok := tokenOf(t, s, "02:00:00:00:00:01", "127.0.0.11") // the boot script: a timeline step
	if code, _ := httpFrom(t, "127.0.0.11", "GET", s.URL+"/ks/"+tok, ""); code != 200 {
		t.Fatalf("GET the template of inst1: %d", code)
	}

	var mu sync.Mutex
	var dialogs []string
	chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			mu.Lock()
			dialogs = append(dialogs, d.Message)
			mu.Unlock()
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	})
	css, id := func(s string) chromedp.CSS { return chromedp.CSS(s) }, func(s string) chromedp.ID { return chromedp.ID(s) }

	// Log in: the form, then the fleet.
	do(t, ctx, "open /ui/", chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(id("token")))
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.Contains(loc, "/ui/login") {
		t.Fatalf("without a session /ui/ shows %s, want the login form", loc)
	}
	do(t, ctx, "log in", chromedp.SendKeys(id("token"), s.Token), chromedp.Submit(id("token")), chromedp.WaitVisible(css("table.fleet")))
	loc := get(t, ctx, "location", chromedp.Location())
	counts := map[string]string{}
	for _, st := range []string{"pending", "installing", "diskless", "installed"} {
		counts[st] = get(t, ctx, "count "+st, chromedp.Text(css(`strong[data-state="`+st+`"]`)))
	}
	if counts["pending"] != "1" || counts["installing"] != "1" || counts["diskless"] != "3" || counts["installed"] != "0" {
		t.Errorf("the fleet counts %v, want pending 1, installing 1, diskless 3, installed 0", counts)
	}
	html := get(t, ctx, "the page", chromedp.OuterHTML(css("html")))
	if strings.Contains(html, s.Token) || strings.Contains(loc, s.Token) {
		t.Error("the admin token is in the fleet page or its URL")
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range res.Cookies {
		if c.Value == s.Token {
			t.Errorf("cookie %s holds the token itself", c.Name)
		}
		if c.Name == "provision_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/ui/" {
		t.Fatalf("the session cookie: %+v, want HttpOnly, SameSite=Strict, Path=/ui/", session)
	}
	if jsCookie := get(t, ctx, "document.cookie", chromedp.Evaluate[string](`document.cookie`)); strings.Contains(jsCookie, session.Value) {
		t.Error("scripts can read the session cookie")
	}
	screenshot(t, ctx, "fleet-1280x800")

	// Search and filter are the server's.
	do(t, ctx, "search", chromedp.Navigate(s.URL+"/ui/?q=web"), chromedp.WaitVisible(css("table.fleet")))
	if rows := get(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("tr[data-system]").length`)); rows != 3 {
		t.Errorf("searching web shows %d systems, want 3", rows)
	}

	// By keyboard alone: Tab to the first system, Enter opens it.
	focused := ""
	for range 40 {
		do(t, ctx, "tab", chromedp.KeyEvent("\t"))
		focused = get(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement.getAttribute("href") || document.activeElement.tagName`))
		if strings.HasPrefix(focused, "/ui/systems/") {
			break
		}
	}
	if focused != "/ui/systems/web1" {
		t.Fatalf("tabbing through the fleet page never reached the first system's link (last focus %q)", focused)
	}
	do(t, ctx, "enter", chromedp.KeyEvent("\r"), chromedp.WaitVisible(css(`body[data-host="web1"]`)))

	// The host: timeline, settings with their sources, history.
	do(t, ctx, "open inst1", chromedp.Navigate(s.URL+"/ui/systems/inst1"), chromedp.WaitVisible(css("svg.waterfall")))
	html = get(t, ctx, "the host page", chromedp.OuterHTML(css("html")))
	for _, want := range []string{">script<", ">template<", "installing", "inst1", "system add", "system edit"} {
		if !strings.Contains(html, want) {
			t.Errorf("the host page lacks %q", want)
		}
	}
	shown := get(t, ctx, "the settings", chromedp.Evaluate[string](`[...document.querySelectorAll("td.mono")].map(e => e.textContent).join("|")`))
	if !strings.Contains(shown, xss) {
		t.Errorf("the setting holding a script is not shown as its text: %q", shown)
	}
	screenshot(t, ctx, "host-1280x800")

	// Live: the build's done callback, posted by the test, reaches the
	// open page without a reload.
	do(t, ctx, "mark the page", chromedp.WaitVisible(css(`body[data-stream="open"]`)))
	get(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	sent := time.Now()
	if code, _ := httpFrom(t, "127.0.0.11", "POST", s.URL+"/ks/"+tok+"/done", ""); code != 200 {
		t.Fatalf("the done callback: %d", code)
	}
	do(t, ctx, "installed arrives", chromedp.WaitVisible(css(`dd[data-field="state"] .state-installed`)))
	t.Logf("the done callback reached the open page after %v", time.Since(sent).Round(time.Millisecond))
	state := get(t, ctx, "state", chromedp.Text(css(`dd[data-field="state"]`)))
	if same := get(t, ctx, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !same || strings.TrimSpace(state) != "installed" {
		t.Errorf("after the callback the page says %q (not reloaded: %v)", state, same)
	}

	// An action: netboot off, confirmed, recorded as the admin's.
	do(t, ctx, "netboot off", chromedp.Click(css(`a[href$="action=netboot-off"]`)), chromedp.WaitVisible(id("confirm")))
	if h1 := get(t, ctx, "confirmation", chromedp.Text(css("h1"))); !strings.Contains(h1, "inst1") {
		t.Errorf("the confirmation says %q, not naming the host", h1)
	}
	do(t, ctx, "confirm", chromedp.Click(id("confirm")), chromedp.WaitVisible(css("p.done")))
	if done := get(t, ctx, "outcome", chromedp.Text(css("p.done"))); !strings.Contains(done, "Netboot off: done") {
		t.Errorf("after the action the page says %q", done)
	}
	if sys := systemJSON(t, s, "inst1"); sys.Netboot {
		t.Error("netboot off through the dashboard left netboot on")
	}
	if h := s.ok("history", "inst1"); !strings.Contains(h, "admin") || !strings.Contains(h, "edit") {
		t.Errorf("the action is not in history as the admin's:\n%s", h)
	}

	// A failed build: its installer's log is on its page.
	tok2 := tokenOf(t, s, "02:00:00:00:00:02", "127.0.0.12")
	if code, _ := httpFrom(t, "127.0.0.12", "POST", s.URL+"/ks/"+tok2+"/failed", "anaconda: no disk <b>sda</b>\n"); code != 200 {
		t.Fatalf("the failed callback: %d", code)
	}
	do(t, ctx, "open inst2", chromedp.Navigate(s.URL+"/ui/systems/inst2"), chromedp.WaitVisible(css("#log")))
	if log := get(t, ctx, "the log", chromedp.Text(id("install-log"))); !strings.Contains(log, "anaconda: no disk <b>sda</b>") {
		t.Errorf("the failed build's log shows %q", log)
	}
	do(t, ctx, "back to inst1", chromedp.Navigate(s.URL+"/ui/systems/inst1"), chromedp.WaitVisible(css(`body[data-host="inst1"]`)))

	// Reinstall: the installed host is pending again, netboot on.
	do(t, ctx, "reinstall", chromedp.Click(css(`a[href$="action=reinstall"]`)), chromedp.WaitVisible(id("confirm")),
		chromedp.Click(id("confirm")), chromedp.WaitVisible(css("p.done")))
	if done := get(t, ctx, "outcome", chromedp.Text(css("p.done"))); !strings.HasPrefix(done, "Reinstall: done") || systemJSON(t, s, "inst1").Status != "pending" {
		t.Errorf("after reinstall the page says %q and inst1 is %s", done, systemJSON(t, s, "inst1").Status)
	}

	// A form without the session's CSRF token is refused.
	form := url.Values{"action": {"netboot-off"}, "confirm": {"inst1"}}
	req, _ := http.NewRequest("POST", s.URL+"/ui/systems/inst1/action", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !systemJSON(t, s, "inst1").Netboot {
		t.Errorf("an action without the CSRF token: %s, netboot %v; want 403 and nothing changed", resp.Status, systemJSON(t, s, "inst1").Netboot)
	}

	// The read-only token sees everything and may change nothing.
	ro, err := os.ReadFile(filepath.Join(s.Data, "token-read-only"))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "log out, in read-only", chromedp.Click(css(`form[action="/ui/logout"] button`)), chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), strings.TrimSpace(string(ro))), chromedp.Submit(id("token")), chromedp.WaitVisible(css("table.fleet")),
		chromedp.Navigate(s.URL+"/ui/systems/inst1/confirm?action=netboot-off"), chromedp.WaitVisible(id("confirm")),
		chromedp.Click(id("confirm")), chromedp.WaitVisible(css("p.error")))
	if refused := get(t, ctx, "refusal", chromedp.Text(css("p.error"))); !strings.Contains(refused, "read") || !systemJSON(t, s, "inst1").Netboot {
		t.Errorf("with the read-only token the action says %q, netboot %v; want a refusal and nothing changed", refused, systemJSON(t, s, "inst1").Netboot)
	}

	// A phone's width: the fleet still fits.
	do(t, ctx, "phone width", chromedp.EmulateViewport(390, 844), chromedp.Navigate(s.URL+"/ui/"), chromedp.WaitVisible(css("table.fleet")))
	if width := get(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Errorf("at 390 px the fleet page is %d px wide", width)
	}
	screenshot(t, ctx, "fleet-390x844")
	mu.Lock()
	defer mu.Unlock()
	if len(dialogs) > 0 {
		t.Errorf("a page opened dialogs %q: a value ran as script", dialogs)
	}
}

// The Discovered view in a real browser: a machine its agent reported is
// listed with its serial, switch port and BMC, and one that reports while
// the view is open appears without a reload; its page shows the whole
// inventory and the accept form; a name another system has is refused
// with the registry's reason and the form kept; accepting with ip auto
// makes the system, whose host page then shows the inventory (disk
// serials, the LLDP port). Screenshots go to the artifact directory.
func TestDiscoveredInBrowser(t *testing.T) {
	defer parallel(t)()
	ctx := browser(t)
	s := startServer(t, t.TempDir())
	seed(t, s)
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24", "--pool", "127.0.0.200-127.0.0.250", "--discovery", "on")
	s.ok("system", "add", "taken", "--mac", "02:00:00:00:29:99", "--ip", "10.0.0.99", "--profile", "centos-web")
	const mac = "52:54:00:00:29:31"
	reportInventory(t, s, "127.0.0.31", sampleInventory(mac, "52:54:00:00:29:c1", "SER-UI", "11", "10.0.1.51"))
	css, id := func(s string) chromedp.CSS { return chromedp.CSS(s) }, func(s string) chromedp.ID { return chromedp.ID(s) }

	do(t, ctx, "log in to the Discovered view", chromedp.Navigate(s.URL+"/ui/discovered"), chromedp.WaitVisible(id("token")),
		chromedp.SendKeys(id("token"), s.Token), chromedp.Submit(id("token")), chromedp.WaitVisible(css("table.machines")))
	row := get(t, ctx, "the machine's row", chromedp.Text(css(`tr[data-machine="`+mac+`"]`)))
	for _, want := range []string{"SER-UI", "tor-a12 Ethernet1/11", "10.0.1.51", "2, 6.0 GiB"} {
		if !strings.Contains(row, want) {
			t.Errorf("the Discovered view's row of %s lacks %q: %q", mac, want, row)
		}
	}
	screenshot(t, ctx, "discovered-1280x800")

	// Live: a machine that reports while the view is open appears in it,
	// without a reload.
	do(t, ctx, "the stream", chromedp.WaitVisible(css(`body[data-stream="open"]`)))
	get(t, ctx, "mark the page", chromedp.Evaluate[bool](`window.notReloaded = true`))
	const mac2 = "52:54:00:00:29:32"
	reportInventory(t, s, "127.0.0.32", sampleInventory(mac2, "52:54:00:00:29:c2", "SER-UI2", "12", "10.0.1.52"))
	do(t, ctx, "the second machine arrives", chromedp.WaitVisible(css(`tr[data-machine="`+mac2+`"]`)))
	if same := get(t, ctx, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)); !same {
		t.Error("the Discovered view reloaded to show the new machine")
	}

	do(t, ctx, "open the machine", chromedp.Click(css(`tr[data-machine="`+mac+`"] a.button`)), chromedp.WaitVisible(id("accept-name")))
	inv := get(t, ctx, "the inventory", chromedp.Text(css("section.inventory")))
	for _, want := range []string{"SER-UI-D1", "SER-UI-D2", "52:54:00:00:29:c1", "Ethernet1/11", "R650"} {
		if !strings.Contains(inv, want) {
			t.Errorf("the machine's page lacks %q", want)
		}
	}
	screenshot(t, ctx, "machine-1280x800")
	do(t, ctx, "accept as a taken name", chromedp.SendKeys(id("accept-name"), "taken"), chromedp.SetValue(id("accept-profile"), "centos-web"),
		chromedp.Click(id("accept-submit")), chromedp.WaitVisible(css("p.error")))
	if msg := get(t, ctx, "refusal", chromedp.Text(css("p.error"))); !strings.Contains(msg, "taken") {
		t.Errorf("accepting as a taken name says %q, not naming the other system", msg)
	}
	if got := get(t, ctx, "the form kept", chromedp.Value(id("accept-name"))); got != "taken" {
		t.Errorf("after the refusal the name field holds %q", got)
	}
	do(t, ctx, "accept", chromedp.SetValue(id("accept-name"), "rack1-11"), chromedp.SetValue(id("accept-ip"), "auto"), chromedp.SetValue(id("accept-subnet"), "lan"),
		chromedp.Click(id("accept-submit")), chromedp.WaitVisible(css(`body[data-host="rack1-11"]`)))
	if done := get(t, ctx, "outcome", chromedp.Text(css("p.done"))); !strings.Contains(done, "Accepted as rack1-11") {
		t.Errorf("after accept the page says %q", done)
	}
	if sys := systemJSON(t, s, "rack1-11"); sys.Profile != "centos-web" || len(sys.MACs) != 2 || sys.MACs[0] != mac {
		t.Errorf("the accepted system: %+v", sys)
	}
	serials := get(t, ctx, "disk serials", chromedp.Evaluate[string](`[...document.querySelectorAll('[data-field="disk-serial"]')].map(e => e.textContent).join(" ")`))
	port := get(t, ctx, "lldp port", chromedp.Evaluate[string](`(document.querySelector('[data-field="lldp-port"]') || {}).textContent || ""`))
	if serials != "SER-UI-D1 SER-UI-D2" || !strings.Contains(port, "Ethernet1/11") {
		t.Errorf("the host page's inventory shows disks %q, port %q", serials, port)
	}
	screenshot(t, ctx, "host-inventory-1280x800")
	do(t, ctx, "the Discovered view again", chromedp.Navigate(s.URL+"/ui/discovered"), chromedp.WaitVisible(css("table.machines")))
	if n := get(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("tr[data-machine]").length`)); n != 1 {
		t.Errorf("after accept the Discovered view lists %d machines, want 1 (the second)", n)
	}
	do(t, ctx, "phone width", chromedp.EmulateViewport(390, 844), chromedp.Navigate(s.URL+"/ui/discovered/"+mac2), chromedp.WaitVisible(id("accept-name")))
	if width := get(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); width > 390 {
		t.Errorf("at 390 px a machine's page is %d px wide", width)
	}
	screenshot(t, ctx, "machine-390x844")
}
