package slapdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// TestServerWithOpenLDAPClient checks the server with OpenLDAP's own
// client, not with the code under test: a user binds over LDAPS and over
// LDAP with StartTLS (-ZZ: TLS or nothing) trusting the test's CA, the
// groups and memberOf follow AddToGroup and RemoveFromGroup, and a
// stopped server refuses connections.
func TestServerWithOpenLDAPClient(t *testing.T) {
	s := Start(t, Options{Users: []User{{UID: "alice", Password: "pw-alice", Name: "Alice Liddell", Groups: []string{"ops"}}}})
	whoami := testenv.NeedCommand(t, "ldapwhoami")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("pw-alice"), 0o600)
	for _, args := range [][]string{{"-H", s.LDAPSURL}, {"-H", s.LDAPURL, "-ZZ"}} {
		out := run(t, s, whoami, append(args, "-x", "-D", s.UserDN("alice"), "-y", pw)...)
		if want := "dn:" + s.UserDN("alice"); out != want {
			t.Errorf("ldapwhoami %v = %q, want %q", args, out, want)
		}
	}
	s.AddToGroup(t, "alice", "web")
	s.RemoveFromGroup(t, "alice", "ops")
	out := run(t, s, "ldapsearch", "-H", s.LDAPSURL, "-x", "-LLL", "-D", s.rootDN, "-w", s.rootPassword,
		"-b", s.UserDN("alice"), "-s", "base", "memberOf")
	if !strings.Contains(out, "memberOf: cn=web,"+s.GroupsDN) || strings.Contains(out, "cn=ops") {
		t.Errorf("alice's memberOf after joining web and leaving ops:\n%s", out)
	}
	s.Stop()
	if _, err := runErr(s, whoami, "-H", s.LDAPSURL, "-x", "-D", s.UserDN("alice"), "-y", pw); err == nil {
		t.Errorf("ldapwhoami reached a stopped server")
	}
}

func run(t *testing.T, s *Server, name string, args ...string) string {
	t.Helper()
	out, err := runErr(s, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func runErr(s *Server, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+s.CAFile, "LDAPTLS_REQCERT=demand")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestServerRequiresTLS: a bind over ldap:// without StartTLS is refused,
// so a client that passes over StartTLS proves it ran it.
func TestServerRequiresTLS(t *testing.T) {
	s := Start(t, Options{})
	out, err := runErr(s, testenv.NeedCommand(t, "ldapwhoami"), "-H", s.LDAPURL, "-x", "-D", s.BindDN, "-w", s.BindPassword)
	if err == nil || !strings.Contains(out, "Confidentiality required") {
		t.Errorf("a bind without TLS: %v\n%s\nwant Confidentiality required", err, out)
	}
}
