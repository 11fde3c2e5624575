package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/provision/provision/internal/slapdtest"
)

// ldapConfig writes the appliance's configuration file: directory login
// against dir, its group ops an operator's.
func ldapConfig(t *testing.T, dir *slapdtest.Server) string {
	c := dir.Config()
	file := filepath.Join(t.TempDir(), "config.yaml")
	text := fmt.Sprintf(`ldap:
  url: %s
  ca_file: %s
  bind_dn: %s
  bind_password: %s
  user_base: %s
  group_base: %s
  timeout: 5s
  groups:
    - group: ops
      role: operator
`, c.URL, c.CAFile, c.BindDN, c.BindPassword, c.UserBase, c.GroupBase)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// signIn fills the dashboard's directory form and waits for the page it
// leads to (wait).
func signIn(t *testing.T, ctx context.Context, url, user, password string, wait chromedp.Action[chromedp.Void]) {
	t.Helper()
	do(t, ctx, "sign in as "+user, chromedp.Navigate(url+"/ui/login"), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("directory-submit")), wait)
}

// Directory login in a real browser against a real slapd (TLS): olga, of
// group ops (operator), signs in with her password, is named "olga ·
// operator", reinstalls a system (pending again, signed by her in
// history), sees no template edit, and a POST to the template edit URL
// from her session is refused by the API with its reason; a wrong
// password, vera (in no mapped group), olga once taken out of ops, and
// a stopped directory each get their plain refusal on the login page.
func TestDashboardLDAPLogin(t *testing.T) {
	defer parallel(t)()
	ctx := browser(t)
	dir := slapdtest.Start(t, slapdtest.Options{Users: []slapdtest.User{
		{UID: "olga", Password: "olga-Pw-7", Name: "Olga Operator", Groups: []string{"ops"}},
		{UID: "vera", Password: "vera-Pw-7", Groups: []string{"staff"}},
	}})
	s := startServer(t, t.TempDir(), "--config", ldapConfig(t, dir))
	tdir := t.TempDir()
	kernel, tpl := filepath.Join(tdir, "k"), filepath.Join(tdir, "inst.sh")
	os.WriteFile(kernel, []byte("kernel"), 0o644)
	os.WriteFile(tpl, []byte("#!/bin/sh\n# {{.System.Name}}\nwget {{.URLs.Done}}\n"), 0o644)
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24")
	s.ok("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	s.ok("template", "add", "inst", "--kind", "script", "--file", tpl)
	s.ok("profile", "add", "inst", "--image", "img", "--kickstart", "inst")
	s.ok("system", "add", "inst1", "--mac", "02:00:00:00:00:01", "--ip", "127.0.0.11", "--profile", "inst")
	tok := tokenOf(t, s, "02:00:00:00:00:01", "127.0.0.11")
	if code, _ := httpFrom(t, "127.0.0.11", "POST", s.URL+"/ks/"+tok+"/done", ""); code != 200 || systemJSON(t, s, "inst1").Status != "installed" {
		t.Fatalf("the build's done callback: %d, inst1 %s", code, systemJSON(t, s, "inst1").Status)
	}
	css, id := func(s string) chromedp.CSS { return chromedp.CSS(s) }, func(s string) chromedp.ID { return chromedp.ID(s) }

	// A wrong password.
	signIn(t, ctx, s.URL, "olga", "not-her-password", chromedp.WaitVisible(id("directory-error")))
	if msg := get(t, ctx, "refusal", chromedp.Text(id("directory-error"))); msg != "Wrong user name or password." {
		t.Errorf("a wrong password says %q", msg)
	}
	screenshot(t, ctx, "ldap-wrong-password")

	// olga signs in: the header names her and her role.
	signIn(t, ctx, s.URL, "olga", "olga-Pw-7", chromedp.WaitVisible(css("table.fleet")))
	if who := get(t, ctx, "who", chromedp.Text(id("who"))); who != "olga · operator" {
		t.Errorf("the header says %q, want olga · operator", who)
	}
	if html := get(t, ctx, "the page", chromedp.OuterHTML(css("html"))); strings.Contains(html, "olga-Pw-7") {
		t.Error("olga's password is in the page")
	}

	// She reinstalls inst1 and may netboot it, and sees no template edit.
	do(t, ctx, "open inst1", chromedp.Navigate(s.URL+"/ui/systems/inst1"), chromedp.WaitVisible(css(`body[data-host="inst1"]`)))
	if n := get(t, ctx, "edit links", chromedp.Evaluate[int](`document.querySelectorAll('#edit-template').length`)); n != 0 {
		t.Errorf("olga's host page offers %d template edit actions", n)
	}
	if n := get(t, ctx, "netboot links", chromedp.Evaluate[int](`document.querySelectorAll('a[href*="action=netboot"]').length`)); n != 1 {
		t.Errorf("olga's host page offers %d netboot actions, want 1 (netboot is an operator's)", n)
	}
	screenshot(t, ctx, "ldap-operator-host")
	do(t, ctx, "reinstall", chromedp.Click(css(`a[href$="action=reinstall"]`)), chromedp.WaitVisible(id("confirm")),
		chromedp.Click(id("confirm")), chromedp.WaitVisible(css("p.done")))
	if done := get(t, ctx, "outcome", chromedp.Text(css("p.done"))); !strings.HasPrefix(done, "Reinstall: done") || systemJSON(t, s, "inst1").Status != "pending" {
		t.Errorf("after olga's reinstall the page says %q and inst1 is %s", done, systemJSON(t, s, "inst1").Status)
	}
	if h := s.ok("history", "inst1"); !strings.Contains(h, "olga") {
		t.Errorf("olga's reinstall is not in history as hers:\n%s", h)
	}
	do(t, ctx, "the template", chromedp.Navigate(s.URL+"/ui/templates/inst"), chromedp.WaitVisible(id("template-view")))
	if n := get(t, ctx, "edit forms", chromedp.Evaluate[int](`document.querySelectorAll("textarea, #template-form").length`)); n != 0 {
		t.Errorf("olga's template page has %d edit forms", n)
	}
	forged := get(t, ctx, "a forged edit", chromedp.Evaluate[string](`fetch("/ui/templates/inst", {method: "POST",
		body: new URLSearchParams({csrf: document.querySelector('input[name="csrf"]').value, text: "#!/bin/sh\necho forged\n"})})
		.then(async r => r.status + " " + await r.text())`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(forged, "403 ") || !strings.Contains(forged, "olga (operator) may not edit templates") {
		t.Errorf("olga's POST to the template edit URL answered %q", forged)
	}
	if text := s.ok("template", "show", "inst"); strings.Contains(text, "forged") {
		t.Errorf("olga's forged edit changed the template:\n%s", text)
	}
	do(t, ctx, "sign out", chromedp.Click(css(`form[action="/ui/logout"] button`)), chromedp.WaitVisible(id("user")))

	// vera is in no mapped group; olga, taken out of ops, loses her role
	// at her next sign-in.
	signIn(t, ctx, s.URL, "vera", "vera-Pw-7", chromedp.WaitVisible(id("directory-error")))
	if msg := get(t, ctx, "refusal", chromedp.Text(id("directory-error"))); !strings.Contains(msg, "no role") {
		t.Errorf("vera's sign-in says %q", msg)
	}
	dir.RemoveFromGroup(t, "olga", "ops")
	signIn(t, ctx, s.URL, "olga", "olga-Pw-7", chromedp.WaitVisible(id("directory-error")))
	if msg := get(t, ctx, "refusal", chromedp.Text(id("directory-error"))); !strings.Contains(msg, "Signed in as olga, but with no role") {
		t.Errorf("olga's sign-in out of ops says %q", msg)
	}
	screenshot(t, ctx, "ldap-no-role")

	// The directory stops: it cannot be reached.
	dir.Stop()
	signIn(t, ctx, s.URL, "olga", "olga-Pw-7", chromedp.WaitVisible(id("directory-error")))
	if msg := get(t, ctx, "refusal", chromedp.Text(id("directory-error"))); !strings.HasPrefix(msg, "The directory cannot be reached") {
		t.Errorf("with the directory stopped the sign-in says %q", msg)
	}
	screenshot(t, ctx, "ldap-unreachable")
	if strings.Contains(s.Log(), "olga-Pw-7") || strings.Contains(s.Log(), "not-her-password") {
		t.Error("a password is in the appliance's log")
	}
}
