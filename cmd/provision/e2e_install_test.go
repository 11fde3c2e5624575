package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/registry"
)

// httpDo sends one request to the appliance and returns status and body.
func httpDo(t testing.TB, method, url, body string) (int, string) {
	t.Helper()
	return httpFrom(t, "", method, url, body)
}

// httpFrom is httpDo from the local address from (127.x.y.z), or any.
func httpFrom(t testing.TB, from, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := http.DefaultClient
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tokenOf reads the build token of a system from its iPXE script, which
// is where machines get it (the API never shows it).
// tokenOf is the build token in the boot script of mac, asked for from
// from, the machine's own address: anyone else gets no token.
func tokenOf(t *testing.T, s *server, mac, from string) string {
	t.Helper()
	_, script := httpFrom(t, from, "GET", s.URL+"/boot/"+mac+".ipxe", "")
	m := regexp.MustCompile(`provision\.ks=\S+/ks/([0-9a-f]{32})`).FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("no provision.ks= in the script of %s:\n%s", mac, script)
	}
	return m[1]
}

func systemJSON(t *testing.T, s *server, name string) registry.System {
	t.Helper()
	var sys registry.System
	if err := json.Unmarshal([]byte(s.ok("system", "show", name, "--json")), &sys); err != nil {
		t.Fatal(err)
	}
	return sys
}

// The install lifecycle through the real binary: templates checked at
// every write, a build token in the installer's script only, the template
// served by token and by source IP, done and failed callbacks, tokens that
// stop working, and the local-boot script afterwards.
func TestInstallLifecycleHTTP(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	s.fails("template bad: line 2:", "template", "add", "bad", "--file", write("bad", "ok\n{{.System.Name\n"))
	s.fails(`template typo: line 2: can't evaluate field Nmae in type kickstart.System`, "template", "add", "typo", "--file", write("typo", "# {{.System.Name}}\n{{.System.Nmae}}\n"), "--kind", "script")
	s.ok("template", "add", "needs-disk", "--file", write("nd", "# {{.System.Name}}\ndisk={{index .Settings \"disk\" | default \"sda\"}}\n{{.URLs.Done}}\n"), "--kind", "script")
	s.ok("profile", "add", "inst", "--image", "centos", "--kickstart", "needs-disk", "--install-timeout", "1h")
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24") // the machines speak from 127.0.0.21 and .22
	s.ok("system", "add", "web001", "--mac", "52:54:00:00:00:01", "--ip", "127.0.0.21", "--profile", "inst", "--set", "disk=vda")
	s.ok("system", "add", "web002", "--mac", "52:54:00:00:00:02", "--ip", "127.0.0.22", "--profile", "inst")
	s.fails(`system web001: template needs-disk: line 2: map has no entry for key "swap"`,
		"template", "edit", "needs-disk", "--file", write("nd2", "x\n{{.Settings.swap}}\n"))
	s.fails("template needs-disk is in use by profile inst", "template", "remove", "needs-disk")
	if out := s.ok("template", "render", "needs-disk", "--system", "web001"); !strings.Contains(out, "disk=vda") || !strings.Contains(out, "/ks/BUILD-TOKEN/done") {
		t.Fatalf("template render:\n%s", out)
	}
	if out := s.ok("template", "list"); !strings.Contains(out, "debian12-preseed") || !strings.Contains(out, "needs-disk") {
		t.Fatalf("template list:\n%s", out)
	}
	if sys := systemJSON(t, s, "web001"); sys.Status != "pending" || sys.Deadline == "" {
		t.Fatalf("a new system of a profile with a template: %+v", sys)
	}
	tok1, tok2 := tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21"), tokenOf(t, s, "52:54:00:00:00:02", "127.0.0.22")
	if tok1 == tok2 {
		t.Fatal("two systems share a build token")
	}
	// Anyone else who names the MAC gets a script without the build.
	if _, script := httpDo(t, "GET", s.URL+"/boot/52:54:00:00:00:01.ipxe", ""); strings.Contains(script, tok1) || strings.Contains(script, "kernel") ||
		!strings.Contains(script, "handed only to its own address") {
		t.Fatalf("web001's script asked from 127.0.0.1:\n%s", script)
	}
	// Nor does the token work from anywhere but the machine.
	for _, u := range []string{"/ks/" + tok1, "/ks/" + tok1 + "/meta-data"} {
		if code, body := httpDo(t, "GET", s.URL+u, ""); code != 404 || strings.Contains(body, "web001") {
			t.Fatalf("web001's token from 127.0.0.1 at %s: %d %q", u, code, body)
		}
	}
	for _, u := range []string{"/ks/" + tok1 + "/done", "/ks/" + tok1 + "/failed"} {
		if code, _ := httpDo(t, "POST", s.URL+u, ""); code != 404 {
			t.Fatalf("POST %s from 127.0.0.1: %d", u, code)
		}
		if code, _ := httpFrom(t, "127.0.0.21", "GET", s.URL+u, ""); code != 405 {
			t.Fatalf("GET %s from the machine: %d, want 405 (POST only)", u, code)
		}
	}
	if sys := systemJSON(t, s, "web001"); sys.Status != "pending" {
		t.Fatalf("web001 after the refused callbacks: %+v", sys)
	}
	if show := s.ok("system", "show", "web001", "--json") + s.ok("export") + s.ok("history", "web001"); strings.Contains(show, tok1) {
		t.Fatal("the build token is in show, export or history")
	}

	code, body := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok1, "")
	if code != 200 || !strings.Contains(body, "# web001\ndisk=vda\n") || !strings.Contains(body, "/ks/"+tok1+"/done") {
		t.Fatalf("GET /ks/TOKEN: %d\n%s", code, body)
	}
	// The template by source IP: 127.0.0.1 is no system's address.
	if code, _ := httpDo(t, "GET", s.URL+"/ks", ""); code != 404 {
		t.Fatalf("GET /ks from an unknown address: %d", code)
	}
	for _, bad := range []string{"0123456789abcdef0123456789abcdef", "x", tok1 + "0"} {
		if code, body := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+bad, ""); code != 404 || strings.Contains(body, "web00") {
			t.Fatalf("GET /ks/%s: %d %q", bad, code, body)
		}
	}
	waitStatus(t, s, "web001", "installing")
	if code, _ := httpFrom(t, "127.0.0.21", "POST", s.URL+"/ks/"+tok1+"/done", ""); code != 200 {
		t.Fatalf("POST done: %d", code)
	}
	if sys := systemJSON(t, s, "web001"); sys.Status != "installed" || sys.Netboot {
		t.Fatalf("after done: %+v", sys)
	}
	if code, _ := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok1, ""); code != 404 {
		t.Fatalf("a used token: %d", code)
	}
	if code, _ := httpFrom(t, "127.0.0.21", "POST", s.URL+"/ks/"+tok1+"/done", ""); code != 404 {
		t.Fatalf("a used token's done: %d", code)
	}
	if _, script := httpFrom(t, "127.0.0.21", "GET", s.URL+"/boot/52:54:00:00:00:01.ipxe", ""); strings.Contains(script, "kernel") || !strings.Contains(script, "exit") {
		t.Fatalf("an installed system's script:\n%s", script)
	}
	// A failure with a log over 64 KiB: its last 64 KiB are kept, and the
	// answer says so.
	big := strings.Repeat("x", 70000) + "\nTHE END\n"
	code, body = httpFrom(t, "127.0.0.22", "POST", s.URL+"/ks/"+tok2+"/failed", big)
	if code != 200 || !strings.Contains(body, "last 65536 of 70009 bytes") {
		t.Fatalf("POST failed: %d %q", code, body)
	}
	if sys := systemJSON(t, s, "web002"); sys.Status != "failed" {
		t.Fatalf("after failed: %+v", sys)
	}
	if code, _ := httpFrom(t, "127.0.0.22", "POST", s.URL+"/ks/"+tok2+"/done", ""); code != 404 {
		t.Fatalf("done after failed: %d", code)
	}
	if _, l := s.get("/api/v1/systems/web002/install-log"); len(l) != 65536 || !strings.HasSuffix(l, "THE END\n") {
		t.Fatalf("install log: %d bytes, ends %q", len(l), l[max(0, len(l)-20):])
	}
	if !strings.Contains(s.ok("history", "web002"), "pending -> failed (callback)") {
		t.Fatalf("history of web002:\n%s", s.ok("history", "web002"))
	}
	// A reinstall issues a new token; the old one stays dead.
	s.ok("system", "reinstall", "web001")
	if tok := tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21"); tok == tok1 {
		t.Fatal("reinstall kept the token")
	}
	tok3 := tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21")
	if out := s.ok("system", "abort", "web001"); out != "web001: failed\n" {
		t.Fatalf("abort: %q", out)
	}
	if code, _ := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok3, ""); code != 404 {
		t.Fatalf("an aborted build's token: %d", code)
	}
	s.fails("system web001 is failed: it has no build to abort", "system", "abort", "web001")
	if log := s.Log(); strings.Contains(log, tok1) || strings.Contains(log, tok2) || strings.Contains(log, tok3) {
		t.Fatal("a build token is in the appliance's log")
	}
	if out := s.ok("system", "status", "web002"); !strings.Contains(out, "failed") {
		t.Fatalf("status:\n%s", out)
	}
	// A system added to a profile whose template fails for it is refused
	// with the reason.
	s.ok("template", "add", "strict", "--kind", "kickstart", "--file", write("strict", "# {{.System.Name}}\npart / --ondisk={{.Settings.disk}}\n"))
	s.ok("profile", "add", "strict", "--image", "centos", "--kickstart", "strict")
	s.fails(`system web003: template strict: line 2: map has no entry for key "disk"`,
		"system", "add", "web003", "--mac", "52:54:00:00:00:03", "--ip", "10.0.0.23", "--profile", "strict")
}

// Machines are told apart by their address, as on a real network: the
// template by source IP is the requester's own, and a machine presenting
// another machine's token gets 404, never that machine's template.
func TestInstallTokenOfAnotherSystem(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	p := filepath.Join(t.TempDir(), "t")
	os.WriteFile(p, []byte("# template of {{.System.Name}}\n"), 0o644)
	s.ok("template", "add", "own", "--file", p, "--kind", "script")
	s.ok("profile", "add", "own", "--image", "centos", "--kickstart", "own")
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24")
	s.ok("system", "add", "hosta", "--mac", "52:54:00:00:01:01", "--ip", "127.0.0.11", "--profile", "own")
	s.ok("system", "add", "hostb", "--mac", "52:54:00:00:01:02", "--ip", "127.0.0.12", "--profile", "own")
	tokA, tokB := tokenOf(t, s, "52:54:00:00:01:01", "127.0.0.11"), tokenOf(t, s, "52:54:00:00:01:02", "127.0.0.12")
	if code, body := httpFrom(t, "127.0.0.11", "GET", s.URL+"/ks", ""); code != 200 || body != "# template of hosta\n" {
		t.Fatalf("GET /ks from hosta: %d %q", code, body)
	}
	if code, body := httpFrom(t, "127.0.0.12", "GET", s.URL+"/ks/"+tokB, ""); code != 200 || body != "# template of hostb\n" {
		t.Fatalf("hostb's token from hostb: %d %q", code, body)
	}
	if code, body := httpFrom(t, "127.0.0.11", "GET", s.URL+"/ks/"+tokB, ""); code != 404 || strings.Contains(body, "hostb") {
		t.Fatalf("hostb's token from hosta: %d %q", code, body)
	}
	if code, body := httpFrom(t, "127.0.0.11", "POST", s.URL+"/ks/"+tokB+"/done", ""); code != 404 || strings.Contains(body, "hostb") {
		t.Fatalf("hosta reporting hostb's success: %d %q", code, body)
	}
	if code, _ := httpFrom(t, "127.0.0.11", "POST", s.URL+"/ks/"+tokB+"/failed", "log"); code != 404 {
		t.Fatalf("hosta reporting hostb's failure: %d", code)
	}
	if sys := systemJSON(t, s, "hostb"); sys.Status == "failed" || sys.Status == "installed" {
		t.Fatalf("hosta ended hostb's build: %+v", sys)
	}
	if !strings.Contains(s.Log(), `msg="installer refused" client=127.0.0.11`) || strings.Contains(s.Log(), tokA) {
		t.Fatal("the refusal is not in the log, or a token is")
	}
}

// A build's deadline fails it: the token stops working, and a wait on it
// exits 1.
func TestInstallDeadlineAndWait(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	p := filepath.Join(t.TempDir(), "t")
	os.WriteFile(p, []byte("# {{.System.Name}}\n"), 0o644)
	s.ok("template", "add", "quick", "--file", p, "--kind", "script")
	s.ok("profile", "add", "quick", "--image", "centos", "--kickstart", "quick", "--install-timeout", "3s")
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24")
	s.ok("system", "add", "web001", "--mac", "52:54:00:00:00:01", "--ip", "127.0.0.21", "--profile", "quick")
	tok := tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21")
	start := time.Now()
	r := s.run(nil, "system", "reinstall", "web001", "--wait")
	if r.Code != 1 || !strings.Contains(r.Err, "system web001: the build failed") {
		t.Fatalf("reinstall --wait past the deadline: exit %d\n%s\n%s", r.Code, r.Out, r.Err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("--wait ended after %v, before the deadline", d)
	}
	if !strings.Contains(r.Out, "deadline") {
		t.Fatalf("--wait printed no deadline line:\n%s", r.Out)
	}
	if code, _ := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok, ""); code != 404 {
		t.Fatalf("an expired token: %d", code)
	}
	if !strings.Contains(s.ok("history", "web001"), "(deadline)") {
		t.Fatalf("history:\n%s", s.ok("history", "web001"))
	}
	// --wait that ends in installed exits 0.
	done := make(chan result, 1)
	s.ok("profile", "edit", "quick", "--install-timeout", "5m")
	go func() { done <- s.run(nil, "system", "reinstall", "web001", "--wait") }()
	var tok2 string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if sys := systemJSON(t, s, "web001"); sys.Status == "pending" {
			tok2 = tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21")
			break
		}
	}
	httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok2, "")
	httpFrom(t, "127.0.0.21", "POST", s.URL+"/ks/"+tok2+"/done", "")
	if r := <-done; r.Code != 0 || !strings.Contains(r.Out, "web001: installed") {
		t.Fatalf("reinstall --wait: exit %d\n%s\n%s", r.Code, r.Out, r.Err)
	}
	if out := s.ok("events", "--system", "web001"); !strings.Contains(out, "template") || !strings.Contains(out, "done") {
		t.Fatalf("events:\n%s", out)
	}
	// events --follow prints each event as it happens.
	follow := exec.Command(cli, "events", "--follow")
	follow.Env = append(os.Environ(), "PROVISION_SERVER="+s.URL, "PROVISION_TOKEN="+s.Token)
	out, _ := follow.StdoutPipe()
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer follow.Wait()
	defer follow.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		s.ok("system", "reinstall", "web001") // an event; the stream may not be open yet
		select {
		case l := <-lines:
			if !strings.Contains(l, "web001") || !strings.Contains(l, "reinstall") {
				t.Fatalf("events --follow printed %q", l)
			}
			return
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("events --follow printed nothing")
		}
	}
}

func waitStatus(t *testing.T, s *server, name, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if systemJSON(t, s, name).Status == want {
			return
		}
	}
	t.Fatalf("system %s never reached %s: %+v", name, want, systemJSON(t, s, name))
}
