package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/slapdtest"
	lab "github.com/provision/provision/lab/labtest"
)

// Issue 32 with the real binary: the admin token adds users and makes a
// token for an operator of site tokyo, who powers and reinstalls the
// systems of tokyo only (osaka's are refused, saying why), cannot edit a
// template, and is history's by; revoking the token stops it at its next
// request.
func TestUsersAndTokensCLI(t *testing.T) {
	defer parallel(t)()
	bmc := lab.StartBMCSim(t, "e2e-bmc-pw")
	s := startServer(t, t.TempDir(), "--power-poll", "0")
	seed(t, s)
	s.ok("subnet", "add", "tokyo", "--cidr", "10.1.0.0/24", "--site", "tokyo")
	s.ok("subnet", "add", "osaka", "--cidr", "10.2.0.0/24", "--site", "osaka")
	env := []string{"PW=" + bmc.Password}
	if r := s.run(env, "system", "add", "tokyo1", "--mac", "52:54:00:01:00:01", "--ip", "10.1.0.11", "--profile", "centos-db",
		"--bmc-address", bmc.Address, "--bmc-port", fmt.Sprint(bmc.Port), "--bmc-user", "admin", "--bmc-password-env", "PW"); r.Code != 0 {
		t.Fatalf("system add tokyo1: %s", r.Err)
	}
	s.ok("system", "add", "osaka1", "--mac", "52:54:00:02:00:01", "--ip", "10.2.0.11", "--profile", "centos-db") // refused before any BMC
	s.ok("user", "add", "taro", "--role", "operator", "--scope", "site=tokyo", "--full-name", "Taro Yamada")
	s.ok("user", "add", "vera", "--role", "viewer")
	s.fails(`role "root": not one of viewer, operator, admin`, "user", "add", "x", "--role", "root")
	s.fails("no subnet has site kyoto", "user", "add", "x", "--role", "viewer", "--scope", "site=kyoto")
	s.fails("the name is reserved", "user", "add", "admin", "--role", "viewer")
	if out := s.ok("user", "list"); !strings.Contains(out, "taro") || !strings.Contains(out, "site=tokyo") || !strings.Contains(out, "Taro Yamada") {
		t.Errorf("user list:\n%s", out)
	}
	if out := s.ok("__complete", "token", "create", "--user", "t"); !strings.HasPrefix(out, "taro\n") {
		t.Errorf("completion of --user: %q", out)
	}
	s.ok("user", "edit", "vera", "--full-name", "Vera V")
	if out := s.ok("user", "show", "vera"); !strings.Contains(out, "Vera V") {
		t.Errorf("user show after edit:\n%s", out)
	}

	r := s.run(nil, "token", "create", "--user", "taro", "--name", "night", "--expires", "30d")
	tok := strings.TrimSpace(r.Out)
	if r.Code != 0 || !strings.HasPrefix(tok, "prv_") || strings.Count(r.Out, "\n") != 1 || !strings.Contains(r.Err, "only time it is shown") {
		t.Fatalf("token create: %+v", r)
	}
	taro := func(args ...string) result { return s.run([]string{"PROVISION_TOKEN=" + tok}, args...) }
	if r := taro("power", "tokyo1", "on"); r.Code != 0 {
		t.Errorf("taro powers tokyo1: %+v", r)
	}
	if r := taro("system", "reinstall", "tokyo1"); r.Code != 0 {
		t.Errorf("taro reinstalls tokyo1: %+v", r)
	}
	for _, args := range [][]string{{"power", "osaka1", "on"}, {"system", "reinstall", "osaka1"}} {
		if r := taro(args...); r.Code != 1 || !strings.Contains(r.Err, "taro (operator) may") || !strings.Contains(r.Err, "systems of site tokyo only: osaka1 is of site osaka") {
			t.Errorf("taro %v: %+v", args, r)
		}
	}
	ks := filepath.Join(t.TempDir(), "db.ks")
	os.WriteFile(ks, []byte("# changed\n"), 0o644)
	if r := taro("template", "edit", "db.ks", "--file", ks); r.Code != 1 || !strings.Contains(r.Err, "may not edit templates") {
		t.Errorf("taro edits a template: %+v", r)
	}
	if out := s.ok("history", "tokyo1"); !strings.Contains(out, "by taro/night") {
		t.Errorf("history of tokyo1 does not name taro/night:\n%s", out)
	}
	if out := s.ok("user", "edit", "taro", "--scope", "site=osaka", "--scope", "site=tokyo"); !strings.Contains(out, "user taro changed (scope)") {
		t.Errorf("user edit --scope: %q", out)
	}
	if r := taro("system", "reinstall", "osaka1"); r.Code != 0 {
		t.Errorf("taro of tokyo and osaka reinstalls osaka1, at the next request: %+v", r)
	}
	s.ok("user", "edit", "taro", "--scope", "site=tokyo")
	if r := s.run(nil, "user", "edit", "taro", "--role", "operator"); r.Code != 0 || !strings.Contains(r.Err, "user taro: no change") {
		t.Errorf("user edit with no change: %+v", r)
	}
	if r := taro("token", "list"); r.Code != 1 || !strings.Contains(r.Err, "may not manage users and tokens") {
		t.Errorf("taro lists tokens: %+v", r)
	}
	list := s.ok("token", "list", "--user", "taro")
	var toks []struct{ ID string }
	json.Unmarshal([]byte(s.ok("token", "list", "--json")), &toks)
	if len(toks) != 1 || !strings.Contains(list, toks[0].ID) || !strings.Contains(list, "night") || strings.Contains(list, tok) {
		t.Fatalf("token list:\n%s\n%+v", list, toks)
	}
	if out := s.ok("token", "revoke", toks[0].ID); !strings.Contains(out, "token "+toks[0].ID+" of taro revoked") {
		t.Errorf("token revoke: %q", out)
	}
	if r := taro("system", "list"); r.Code != 1 || !strings.Contains(r.Err, "wrong API token") {
		t.Errorf("a revoked token, at its next request: %+v", r)
	}
	usersAndTokensMore(t, s)
}

// usersAndTokensMore: revoking every token of a user, an expiry that
// cannot be read, and a removed user's token.
func usersAndTokensMore(t *testing.T, s *server) {
	s.fails(`--expires "soon"`, "token", "create", "--user", "vera", "--expires", "soon")
	var toks []string
	for range 2 {
		toks = append(toks, strings.TrimSpace(s.ok("token", "create", "--user", "vera", "--expires", "never")))
	}
	if out := s.ok("token", "list"); !strings.Contains(out, "never") {
		t.Errorf("token list of a token that never expires:\n%s", out)
	}
	if out := s.ok("token", "revoke", "--user", "vera"); !strings.Contains(out, "2 tokens of vera revoked") {
		t.Errorf("token revoke --user: %q", out)
	}
	for _, tok := range toks {
		if r := s.run([]string{"PROVISION_TOKEN=" + tok}, "system", "list"); r.Code != 1 {
			t.Errorf("a token of vera after revoke --user: %+v", r)
		}
	}
	s.fails("give a token's ID, or --user NAME", "token", "revoke")
	tok := strings.TrimSpace(s.ok("token", "create", "--user", "vera"))
	s.ok("user", "remove", "vera")
	if r := s.run([]string{"PROVISION_TOKEN=" + tok}, "system", "list"); r.Code != 1 {
		t.Errorf("the token of a removed user: %+v", r)
	}
	if strings.Contains(s.Log(), tok) {
		t.Error("a user's token is in the server's log")
	}
}

// Directory login against a real slapd over StartTLS: provision login
// --user keeps a token whose role follows the person's group; a wrong
// password and a stopped directory say so; a person taken out of the
// group is refused at the next login and loses their tokens.
func TestLDAPLogin(t *testing.T) {
	defer parallel(t)()
	dir := slapdtest.Start(t, slapdtest.Options{Users: []slapdtest.User{
		{UID: "alice", Password: "alice-pw", Name: "Alice Liddell", Groups: []string{"ops"}},
		{UID: "bob", Password: "bob-pw", Groups: []string{"viewers"}},
		{UID: "j smith", Password: "js-pw", Groups: []string{"ops"}},
	}})
	tmp := t.TempDir()
	pwFile := filepath.Join(tmp, "bind.pw")
	os.WriteFile(pwFile, []byte(dir.BindPassword+"\n"), 0o600)
	conf := fmt.Sprintf(`ldap:
  url: %s
  start_tls: true
  ca_file: %s
  bind_dn: %s
  bind_password_file: %s
  user_base: %s
  group_base: %s
  timeout: 3s
  groups:
    - {group: viewers, role: viewer}
    - {group: ops, role: operator}
login_ttl: 2h
`, dir.LDAPURL, dir.CAFile, dir.BindDN, pwFile, dir.PeopleDN, dir.GroupsDN)
	confFile := filepath.Join(tmp, "config.yaml")
	os.WriteFile(confFile, []byte(conf), 0o600)
	s := startServer(t, filepath.Join(tmp, "data"), "--config", confFile)
	seed(t, s)
	s.ok("system", "add", "web001", "--mac", "52:54:00:00:03:01", "--ip", "10.0.0.41", "--profile", "centos-db")

	home := t.TempDir()
	if r := cliIn(t, "x\n", []string{"XDG_CONFIG_HOME=" + home, "PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN="}, "login", "--user", "alice"); r.Err != "provision: directory "+dir.LDAPURL+": wrong user name or password for alice\n" {
		t.Errorf("a wrong password with no token anywhere: %+v", r)
	}
	login := func(user, password string) (result, string) {
		r := cliIn(t, password+"\n", []string{"XDG_CONFIG_HOME=" + home, "PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN="}, "login", "--user", user)
		var cc struct{ Token string }
		b, _ := os.ReadFile(filepath.Join(home, "provision", "config.yaml"))
		yaml.Unmarshal(b, &cc)
		return r, cc.Token
	}
	r, aliceTok := login("alice", "alice-pw")
	if r.Code != 0 || !strings.Contains(r.Out, "as alice (operator) until") || !strings.HasPrefix(aliceTok, "prv_") {
		t.Fatalf("login --user alice: %+v", r)
	}
	who := whoami(t, s, aliceTok)
	if who.Name != "alice" || who.Role != "operator" || who.Token != "login" {
		t.Errorf("whoami as alice: %+v", who)
	}
	asAlice := []string{"XDG_CONFIG_HOME=" + home, "PROVISION_SERVER=" + s.URL, "PROVISION_TOKEN="}
	if r := runCLI(t, "", asAlice, "system", "reinstall", "web001"); r.Code != 0 {
		t.Errorf("alice reinstalls web001 with the saved token: %+v", r)
	}
	if r := runCLI(t, "", asAlice, "template", "remove", "db.ks"); r.Code != 1 || !strings.Contains(r.Err, "alice (operator) may not edit templates") {
		t.Errorf("alice removes a template: %+v", r)
	}
	if out := s.ok("history", "web001"); !strings.Contains(out, "by alice") {
		t.Errorf("history of web001 does not name alice:\n%s", out)
	}
	if out := s.ok("user", "show", "alice"); !strings.Contains(out, "source: ldap") || !strings.Contains(out, "Alice Liddell") {
		t.Errorf("alice as the directory made her:\n%s", out)
	}
	if r, tok := login("bob", "bob-pw"); r.Code != 0 || whoami(t, s, tok).Role != "viewer" {
		t.Errorf("login --user bob: %+v", r)
	}
	if r, _ := login("alice", "wrong"); r.Code != 1 || r.Err != "provision: directory "+dir.LDAPURL+": wrong user name or password for alice\n" {
		t.Errorf("a wrong password: %+v", r)
	}
	if r, _ := login("nobody", "x"); r.Code != 1 || !strings.Contains(r.Err, "wrong user name or password for nobody") {
		t.Errorf("an unknown user: %+v", r)
	}
	if r, _ := login("j smith", "js-pw"); r.Code != 1 || !strings.Contains(r.Err, `directory user "j smith" cannot be a user of the appliance`) {
		t.Errorf("a directory name that cannot be a user name: %+v", r)
	}
	dir.RemoveFromGroup(t, "alice", "ops")
	if r, _ := login("alice", "alice-pw"); r.Code != 1 || !strings.Contains(r.Err, "alice signed in, but is in none of the groups mapped to a role: viewers, ops") {
		t.Errorf("login after leaving ops: %+v", r)
	}
	if code, body := apiGet(t, s, aliceTok, "/api/v1/whoami"); code != 401 {
		t.Errorf("alice's token after she left ops: %d %s", code, body)
	}
	dir.Stop()
	if r, _ := login("bob", "bob-pw"); r.Code != 1 || !strings.Contains(r.Err, "directory "+dir.LDAPURL+": unreachable") {
		t.Errorf("login with the directory stopped: %+v", r)
	}
	if strings.Contains(s.Log(), "alice-pw") || strings.Contains(s.Log(), dir.BindPassword) {
		t.Error("a password is in the server's log")
	}
}

// cliIn runs the CLI with stdin and env (beside this process's).
func cliIn(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	return runCLIStdin(t, "", stdin, env, args...)
}

func apiGet(t *testing.T, s *server, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// whoami is who the API says token belongs to.
func whoami(t *testing.T, s *server, token string) (c struct{ Name, Role, Token string }) {
	t.Helper()
	code, body := apiGet(t, s, token, "/api/v1/whoami")
	if code != 200 || json.Unmarshal([]byte(body), &c) != nil {
		t.Fatalf("whoami: %d %s", code, body)
	}
	return c
}
