package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// runStdin runs the CLI against s with stdin as its standard input.
func (s *server) runStdin(stdin string, args ...string) result {
	s.t.Helper()
	cmd := exec.Command(cli, args...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER="+s.URL, "PROVISION_TOKEN="+s.Token)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// Issue 27, item 6: a secret setting at each level (global, profile,
// system) is in no DNS answer, data.cdb, zonecfg dump, zone export,
// history, API answer (read through the CLI), export without
// --with-secrets, server log or file of the data directory (sealed: a
// restart reads it back); the built-in template renders it into the
// system's own build (seen through an admin's preview with
// --with-secrets, which the build's /ks/TOKEN renders alike). An ordinary
// setting named like a secret moves with set --secret and leaves DNS.
func TestSecretSettingsPublishedNowhere(t *testing.T) {
	defer parallel(t)()
	testenv.NeedCommand(t, "dig")
	data := t.TempDir()
	s := startServer(t, data)
	seed(t, s)
	const global, profile, system = "$6$e2eglobal$GLOBALHASH4f2a", "PROFILE-SECRET-8c1d", "$6$e2esystem$SYSTEMHASH7b3e"
	const moved = "MOVED-TOKEN-2e9f" // published before it moved: history and the database keep that
	secrets := []string{global, profile, system}
	if r := s.runStdin(global+"\n", "setting", "set", "--secret", "root.password-hash", "-"); r.Code != 0 {
		t.Fatalf("setting set --secret: %+v", r)
	}
	s.ok("profile", "add", "sec", "--image", "centos", "--kickstart", "rhel9-kickstart", "--set", "role=sec",
		"--set-secret", "user.password-hash="+profile)
	if r := s.runStdin(system, "system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "sec",
		"--set-secret", "root.password-hash=-"); r.Code != 0 {
		t.Fatalf("system add --set-secret KEY=-: %+v", r)
	}
	s.ok("system", "add", "web002", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "sec")
	s.ok("system", "edit", "web001", "--set", "disk=vda") // keeps its secret setting
	// Migration: an ordinary setting named like a secret (--public) moves.
	s.ok("setting", "set", "api.token", moved, "--public")
	s.waitDNS("TXT", "api.token.internal", `"`+moved+`"`)
	s.ok("setting", "set", "--secret", "api.token", moved)
	s.waitDNS("TXT", "api.token.internal", "")
	s.fails("setting root.password-hash is secret: give --with-secrets", "setting", "get", "root.password-hash")

	cdb := s.fetchCDB()
	cdbBytes, _ := os.ReadFile(cdb)
	outputs := map[string]string{
		"data.cdb":              string(cdbBytes),
		"zonecfg dump":          zonecfgRun(t, filepath.Dir(cdb), "--host", "web001", "dump").Out,
		"zone export":           s.ok("zone", "export"),
		"setting list":          s.ok("setting", "list"),
		"system show":           s.ok("system", "show", "web001", "--json"),
		"system list":           s.ok("system", "list", "-o", "json"),
		"profile list":          s.ok("profile", "list", "-o", "json"),
		"system report":         s.ok("system", "report", "web001"),
		"history":               s.ok("history", "--json"),
		"history web001":        s.ok("history", "web001"),
		"export":                s.ok("export"),
		"template render":       s.ok("template", "render", "rhel9-kickstart", "--system", "web001"),
		"template render web02": s.ok("template", "render", "rhel9-kickstart", "--system", "web002"),
	}
	for _, name := range []string{"root.password-hash.internal", "root.password-hash.web001._host.internal",
		"user.password-hash.web001._host.internal", "api.token.internal"} {
		outputs["dig TXT "+name] = s.dig("TXT", name)
	}
	for what, out := range outputs {
		for _, v := range append(secrets, moved) {
			if strings.Contains(out, v) && !(v == moved && strings.HasPrefix(what, "history")) {
				t.Errorf("%s shows the secret %s:\n%s", what, v, out)
			}
		}
	}
	if !strings.Contains(outputs["history"], "secret root.password-hash set") || !strings.Contains(outputs["history"], "moved to the secret settings") {
		t.Errorf("history does not say what was set:\n%s", outputs["history"])
	}
	if !regexp.MustCompile(`root\.password-hash +\(secret\) +system`).MatchString(outputs["system report"]) {
		t.Errorf("system report does not name the secret setting:\n%s", outputs["system report"])
	}
	if !strings.Contains(outputs["setting list"], "root.password-hash  (secret)") {
		t.Errorf("setting list:\n%s", outputs["setting list"])
	}
	admin := func() {
		t.Helper()
		for sys, want := range map[string]string{"web001": system, "web002": global} {
			if out := s.ok("template", "render", "rhel9-kickstart", "--system", sys, "--with-secrets"); !strings.Contains(out, "rootpw --iscrypted '"+want+"'") {
				t.Errorf("%s's build does not get its root hash:\n%s", sys, out)
			}
		}
		exp := s.ok("export", "--with-secrets")
		for _, v := range secrets {
			if !strings.Contains(exp, v) {
				t.Errorf("export --with-secrets lacks %s", v)
			}
		}
		if got := s.ok("setting", "get", "--with-secrets", "root.password-hash"); got != global+"\n" {
			t.Errorf("setting get --with-secrets: %q", got)
		}
	}
	admin()
	log := s.Log()
	s.Stop()
	for _, v := range secrets {
		if strings.Contains(log, v) {
			t.Errorf("the server's log shows %s", v)
		}
	}
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, v := range secrets {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %s in plaintext", path, v)
			}
		}
		return nil
	})
	s = startServer(t, data)
	admin()
	if got := s.dig("TXT", "root.password-hash.internal"); got != "" {
		t.Errorf("after a restart, DNS answers %q", got)
	}
}
