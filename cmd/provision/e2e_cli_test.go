package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/testenv"
)

// runCLI runs the built CLI with env added (the last of a name wins) in
// dir ("": here), and returns what it printed and its exit code.
func runCLI(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	return runCLIStdin(t, dir, "", env, args...)
}

// runCLIStdin is runCLI with stdin as the CLI's standard input.
func runCLIStdin(t testing.TB, dir, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = append(os.Environ(), env...), dir, strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// Issue 11, items 1 to 3: exit codes and one-line errors.
func TestCLIExitCodes(t *testing.T) {
	defer parallel(t)()
	for _, c := range []struct {
		args []string
		code int
		err  string // the whole of stderr, or a regexp if it starts with ^
	}{
		{[]string{"system", "delete", "web101"}, 2, "provision: unknown command \"delete\" for \"provision system\"\nDid you mean \"provision system remove\"?\n"},
		{[]string{"system", "rm", "web101"}, 2, "provision: unknown command \"rm\" for \"provision system\"\nDid you mean \"provision system remove\"?\n"},
		{[]string{"system", "ls"}, 2, "provision: unknown command \"ls\" for \"provision system\"\nDid you mean \"provision system list\"?\n"},
		{[]string{"sytem", "list"}, 2, "provision: unknown command \"sytem\" for \"provision\"\nDid you mean \"provision system\"?\n"},
		{[]string{"system", "frobnicate"}, 2, "provision: unknown command \"frobnicate\" for \"provision system\"\nRun 'provision system --help' for its commands.\n"},
		{[]string{"system", "add", "web001"}, 2, `^provision: required flag\(s\) "ip", "mac", "profile" not set\n$`},
		{[]string{"system", "report"}, 2, `^provision: accepts 1 arg\(s\), received 0\n$`},
		{[]string{"--server", "ftp://x", "system", "list"}, 2, "provision: --server \"ftp://x\": want the appliance's URL, http://HOST:PORT or https://HOST:PORT\n"},
		{[]string{"system", "list", "-o", "xml"}, 2, "provision: -o \"xml\": want table, wide, json or yaml\n"},
		{[]string{"history", "--since", "yesterday"}, 2, `^provision: --since "yesterday": want a duration`},
	} {
		r := runCLI(t, "", []string{"PROVISION_SERVER=http://127.0.0.1:1"}, c.args...)
		ok := r.Err == c.err
		if strings.HasPrefix(c.err, "^") {
			ok = regexp.MustCompile(c.err).MatchString(r.Err)
		}
		if r.Code != c.code || !ok || r.Out != "" {
			t.Errorf("provision %s: exit %d, stdout %q, stderr %q; want exit %d, stderr %q", strings.Join(c.args, " "), r.Code, r.Out, r.Err, c.code, c.err)
		}
	}
	for _, v := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, "", nil, v...)
		if r.Code != 0 || !regexp.MustCompile(`^provision \S+ \(commit \S+, (\S+, )?go1\.\d+\S*\)\n$`).MatchString(r.Out) {
			t.Errorf("provision %s: %+v", v[0], r)
		}
	}
	if r := runCLI(t, "", nil, "system"); r.Code != 0 || !strings.Contains(r.Out, "Available Commands:") {
		t.Errorf("provision system (help): %+v", r)
	}

	s := startServer(t, t.TempDir())
	hostport := strings.TrimPrefix(s.URL, "http://")
	if r := s.run([]string{"PROVISION_SERVER=" + hostport}, "setting", "list"); r.Code != 0 {
		t.Errorf("--server without a scheme: %+v", r)
	}
	// A second appliance on the first one's ports: which listener, which flag.
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--http", hostport, "--dns", "", "--tftp", ""}, "HTTP listener on " + hostport},
		{[]string{"--http", "127.0.0.1:0", "--dns", s.DNS, "--tftp", ""}, "DNS listener on " + s.DNS},
		{[]string{"--http", "127.0.0.1:0", "--dns", "", "--tftp", s.TFTP}, "TFTP listener on " + s.TFTP},
	} {
		args := append([]string{"serve", "--dev", "--data", t.TempDir(), "--dns-forward", "none"}, c.flags...)
		r := runCLI(t, "", nil, args...)
		flag := strings.Fields(c.want)[0]
		if r.Code != 1 || !strings.Contains(r.Err, c.want) || !strings.Contains(r.Err, "address already in use") || !strings.Contains(r.Err, "--"+strings.ToLower(flag)) {
			t.Errorf("busy %s: exit %d, %q", flag, r.Code, lastLine(r.Err))
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Items 4 to 6: unknown names are errors, no-op edits say so and write
// nothing, zonecfg's help and not-found, the reserved _host.
func TestCLINoSilentNoOps(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir(), "--zone", "dsas")
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web")
	histLen := func() int {
		var h []any
		json.Unmarshal([]byte(s.ok("history", "web001", "--json")), &h)
		return len(h)
	}
	before := histLen()
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"history", "nosuch"}, 1, "provision: no history of nosuch: nothing of that name was ever added\n"},
		{[]string{"profile", "edit", "centos-web", "--unset", "nosuch"}, 1, "provision: profile centos-web has no setting nosuch to unset\n"},
		{[]string{"system", "edit", "web001"}, 0, "system web001: no change\n"},
		{[]string{"system", "edit", "web001", "--ip", "10.0.0.11"}, 0, "system web001: no change\n"},
		{[]string{"setting", "set", "role", "web"}, 0, ""},
		{[]string{"setting", "set", "role", "web"}, 0, "setting role: no change\n"},
		{[]string{"setting", "set", "_host.x", "1"}, 1, "provision: setting key \"_host.x\": the label _host is reserved (hosts' own settings are published under it)\n"},
		{[]string{"setting", "set", "x.web001._host", "1"}, 1, "provision: setting key \"x.web001._host\": the label _host is reserved (hosts' own settings are published under it)\n"},
		{[]string{"system", "show", "nosuch"}, 1, "provision: system nosuch not found\n"},
	} {
		if r := s.run(nil, c.args...); r.Code != c.code || r.Err != c.err || r.Out != "" && r.Out != "setting role set\n" {
			t.Errorf("provision %s: %+v; want exit %d, stderr %q", strings.Join(c.args, " "), r, c.code, c.err)
		}
	}
	if after := histLen(); after != before {
		t.Errorf("no-op edits wrote history: %d records, were %d", after, before)
	}
	for _, h := range []string{"--help", "-h"} {
		if r := zonecfgRun(t, t.TempDir(), h); r.Code != 0 || !strings.HasPrefix(r.Out, "usage: zonecfg") || r.Err != "" {
			t.Errorf("zonecfg %s: %+v", h, r)
		}
	}
	dir := filepath.Dir(s.fetchCDB())
	want := "zonecfg: nope: not found (looked in data.cdb data.cdb, zone dsas, host web001)\n"
	if r := zonecfgRun(t, dir, "--host", "web001", "get", "nope"); r.Code != 1 || r.Err != want {
		t.Errorf("zonecfg get nope: %+v; want %q", r, want)
	}
	want = "zonecfg: nope: not found (looked in DNS server " + s.DNS + ", zone dsas, host web001)\n"
	if r := zonecfgRun(t, t.TempDir(), "--server", s.DNS, "--zone", "dsas", "--host", "web001", "get", "nope"); r.Code != 1 || r.Err != want {
		t.Errorf("zonecfg get nope over DNS: %+v; want %q", r, want)
	}
}

// Items 7 to 10: typed show, system report, history, confirmations and
// -q, list filters and formats.
func TestCLIOutput(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	if r := s.run(nil, "system", "add", "web001", "--mac", "AA-BB-CC-DD-EE-01", "--ip", "10.0.0.11", "--profile", "centos-web", "--set", "x=1"); r.Out != "system web001 added (10.0.0.11, aa:bb:cc:dd:ee:01, diskless)\n" {
		t.Errorf("add: %+v", r)
	}
	if r := s.run(nil, "-q", "system", "add", "db001", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-db"); r.Code != 0 || r.Out != "" {
		t.Errorf("add -q: %+v", r)
	}
	s.ok("setting", "set", "lvs.vrid", "100")
	if out := s.ok("system", "edit", "web001", "--rename", "web101", "--ip", "10.0.0.21"); out != "system web001 renamed to web101 (hostname, ip, name)\n" {
		t.Errorf("rename: %q", out)
	}
	if out := s.ok("system", "edit", "web101", "--kernel-args", "quiet"); out != "system web101 changed (kernel_args)\n" {
		t.Errorf("edit: %q", out)
	}

	// Piped, image add prints its confirmation and no progress bar.
	k, i := filepath.Join(t.TempDir(), "k"), filepath.Join(t.TempDir(), "i")
	os.WriteFile(k, []byte(strings.Repeat("k", 40000)), 0o644)
	os.WriteFile(i, []byte(strings.Repeat("i", 20000)), 0o644)
	if r := s.run(nil, "image", "add", "extra", "--kernel", k, "--initrd", i); r.Out != "image extra added (install, 2 files, 58.6KiB)\n" || r.Err != "" {
		t.Errorf("image add, piped: %+v", r)
	}
	show := s.ok("image", "show", "centos")
	if !strings.HasPrefix(show, "name: centos\n") || !strings.Contains(show, "size: 30000 # 29.3KiB\n") {
		t.Errorf("image show:\n%s", show)
	}
	if show := s.ok("system", "show", "web101"); !strings.HasPrefix(show, "name: web101\n") || !strings.Contains(show, "ip: 10.0.0.21\n") {
		t.Errorf("system show:\n%s", show)
	}
	rep := s.ok("system", "report", "web101")
	for _, re := range []string{`(?m)^system:\s+web101$`, `(?m)^state:\s+diskless since `, `(?m)^kernel args:\s+console=ttyS0 quiet$`, `(?m)^cmdline:\s+console=ttyS0 quiet .*provision\.host=web101 `,
		`(?m)^boot url:\s+` + regexp.QuoteMeta(s.URL+"/boot.ipxe") + `$`, `(?m)^  lvs\.vrid\s+100\s+global$`,
		`(?m)^  role\s+web\s+profile centos-web$`, `(?m)^  x\s+1\s+system$`, `(?m)^template:\s+- \(diskless\)$`} {
		if !regexp.MustCompile(re).MatchString(rep) {
			t.Errorf("system report lacks %s:\n%s", re, rep)
		}
	}
	if rep := s.ok("system", "report", "db001"); !regexp.MustCompile(`(?m)^template:\s+db\.ks$`).MatchString(rep) {
		t.Errorf("system report of db001:\n%s", rep)
	}

	hist := s.ok("history", "web101")
	for _, re := range []string{
		`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  add     system web001  by admin from 127\.0\.0\.1$`,
		`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  rename  system web001 → web101  by admin from 127\.0\.0\.1$`,
		`(?m)^    ip: 10\.0\.0\.11 → 10\.0\.0\.21$`,
		`(?m)^    kernel_args: \(none\) → quiet$`,
	} {
		if !regexp.MustCompile(re).MatchString(hist) {
			t.Errorf("history lacks %s:\n%s", re, hist)
		}
	}
	if strings.Contains(hist, "old:") || strings.Contains(hist, `"macs"`) {
		t.Errorf("history prints whole objects:\n%s", hist)
	}
	var hj []struct {
		Op  string
		New map[string]any
	}
	if err := json.Unmarshal([]byte(s.ok("history", "web101", "--json")), &hj); err != nil || len(hj) != 3 || hj[1].Op != "rename" || hj[1].New["name"] != "web101" {
		t.Errorf("history --json: %v %+v", err, hj)
	}
	if out := s.ok("history", "--limit", "1"); strings.Count(out, " by ") != 1 {
		t.Errorf("history --limit 1:\n%s", out)
	}
	if out := s.ok("history", "--since", "2999-01-01T00:00:00Z"); out != "" {
		t.Errorf("history --since the future: %q", out)
	}
	if out := s.ok("history", "web101", "--since", "1h"); strings.Count(out, "by admin") != 3 {
		t.Errorf("history --since 1h:\n%s", out)
	}

	if out := s.ok("system", "list", "--state", "pending"); !strings.Contains(out, "db001") || strings.Contains(out, "web101") {
		t.Errorf("list --state pending:\n%s", out)
	}
	if out := s.ok("system", "list", "--profile", "centos-web", "--subnet", "lan"); !strings.Contains(out, "web101") || strings.Contains(out, "db001") {
		t.Errorf("list --profile --subnet:\n%s", out)
	}
	if r := s.run(nil, "system", "list", "--profile", "nope"); r.Code != 1 || r.Err != "provision: profile nope not found\n" {
		t.Errorf("list --profile nope: %+v", r)
	}
	var names []struct{ Name string }
	if err := json.Unmarshal([]byte(s.ok("system", "list", "-o", "json")), &names); err != nil || len(names) != 2 {
		t.Errorf("list -o json: %v %v", err, names)
	}
	if out := s.ok("system", "list", "-o", "yaml"); !strings.HasPrefix(out, "- name: db001\n") {
		t.Errorf("list -o yaml:\n%s", out)
	}
	if out := s.ok("system", "list", "-o", "wide"); !strings.Contains(strings.SplitN(out, "\n", 2)[0], "SINCE") {
		t.Errorf("list -o wide:\n%s", out)
	}
	if out := s.ok("system", "remove", "db001"); out != "system db001 removed\n" {
		t.Errorf("remove: %q", out)
	}
}

// Item 11: completion offers names from the server; every verb's help has
// examples.
func TestCLICompletionAndExamples(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"system", "show", ""}, []string{"web001"}},
		{[]string{"system", "add", "x", "--profile", "centos-"}, []string{"centos-db", "centos-web"}},
		{[]string{"profile", "edit", ""}, []string{"centos-db", "centos-web"}},
		{[]string{"power", ""}, []string{"web001"}},
		{[]string{"system", "show", "web001", ""}, nil}, // one name only
	} {
		r := s.run(nil, append([]string{"__complete"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(r.Out), "\n")
		got, directive := lines[:len(lines)-1], lines[len(lines)-1]
		if strings.Join(got, " ") != strings.Join(c.want, " ") || directive != ":4" {
			t.Errorf("complete %v: %q %s; want %q", c.args, got, directive, c.want)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		args := append(strings.Fields(c.CommandPath())[1:], "--help")
		if r := runCLI(t, "", nil, args...); r.Code != 0 || !strings.Contains(r.Out, "\nExamples:\n  ") {
			t.Errorf("provision %s: exit %d, no examples:\n%s", strings.Join(args, " "), r.Code, r.Out)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

// Item 12: where the CLI finds its token, and what it says without one.
func TestCLITokenDiscovery(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	home := t.TempDir()
	env := []string{"PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN=", "HOME=" + home, "XDG_CONFIG_HOME="}
	empty := t.TempDir()
	if _, err := os.Stat("/var/lib/provision/token"); err == nil {
		testenv.Missing(t, "a machine without an appliance's token in /var/lib/provision (the CLI would find it)")
	}
	r := runCLI(t, empty, env, "setting", "list")
	want := "provision: the server wants an API token: no token found in $PROVISION_TOKEN, " + home + "/.config/provision/config.yaml (provision login) or /var/lib/provision/token, provision-data/token\n"
	if r.Code != 1 || r.Err != want {
		t.Errorf("no token: %+v; want %q", r, want)
	}
	// The dev server's directory.
	dev := t.TempDir()
	os.MkdirAll(filepath.Join(dev, "provision-data"), 0o700)
	os.WriteFile(filepath.Join(dev, "provision-data", "token"), []byte(s.Token+"\n"), 0o600)
	if r := runCLI(t, dev, env, "setting", "list"); r.Code != 0 {
		t.Errorf("./provision-data/token: %+v", r)
	}
	// login reads the token from stdin, checks it, keeps it.
	login := exec.Command(cli, "login", "--server", s.URL)
	login.Env, login.Dir = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "PROVISION_TOKEN=", "PROVISION_SERVER="), empty
	ro, _ := os.ReadFile(filepath.Join(s.Data, "token-read-only"))
	login.Stdin = strings.NewReader(string(ro))
	out, err := login.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "logged in to "+s.URL+" with the read-only token") {
		t.Fatalf("login: %v %s", err, out)
	}
	cfg := filepath.Join(home, ".config", "provision", "config.yaml")
	if st, err := os.Stat(cfg); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config %s: %v", cfg, err)
	}
	noServer := []string{"PROVISION_SERVER=", "PROVISION_TOKEN=", "HOME=" + home, "XDG_CONFIG_HOME="}
	if r := runCLI(t, empty, noServer, "setting", "list"); r.Code != 0 {
		t.Errorf("with the saved login: %+v", r)
	}
	if r := runCLI(t, empty, noServer, "setting", "set", "a", "1"); r.Code != 1 || !strings.Contains(r.Err, "read-only (viewer) may not edit") {
		t.Errorf("a write with the saved read-only token: %+v", r)
	}
	login.Stdin = strings.NewReader("wrong\n")
	login = exec.Command(cli, "login", "--server", s.URL)
	login.Env, login.Stdin = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "PROVISION_TOKEN="), strings.NewReader("wrong\n")
	if out, err := login.CombinedOutput(); err == nil || !strings.Contains(string(out), "wrong API token") {
		t.Errorf("login with a wrong token: %v %s", err, out)
	}
}

// Item 13: the dev server stops when the process that started it dies
// (go run killed), instead of holding its ports.
func TestDevServerDiesWithParent(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	sh := exec.Command("sh", "-c", `"$0" serve --dev --data "$1" --http 127.0.0.1:0 --dns "" --tftp "" 2>/dev/null & echo $!; sleep 300`, cli, data)
	stdout, _ := sh.StdoutPipe()
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := stdout.Read(buf)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("server pid %q: %v", buf[:n], err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(data, "token")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dev server did not start")
		}
	}
	sh.Process.Kill()
	sh.Wait()
	for deadline := time.Now().Add(20 * time.Second); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dev server outlived the process that started it")
		}
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}
