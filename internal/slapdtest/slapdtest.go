// Package slapdtest runs a real OpenLDAP server (Debian's slapd) for
// tests: a private slapd in the test's temporary directory, on free ports
// of 127.0.0.1, speaking LDAP (with StartTLS) and LDAPS with a
// certificate signed by a CA made for the test. Its directory:
//
//	dc=example,dc=org
//	  cn=reader                  the service account: reads people and groups
//	  ou=people  uid=UID,...     inetOrgPerson + posixAccount, userPassword {SSHA}
//	  ou=groups  cn=GROUP,...    groupOfNames; member: the users' DNs
//
// A groupOfNames must have a member, so every group also holds the DN
// cn=nobody,dc=example,dc=org, which is no entry: a group everyone left
// stays. The memberof overlay keeps each user's memberOf in step.
//
// slapd runs as the test's user (root here) and in the foreground, as a
// child of the test binary; Debian's slapd package ships no AppArmor
// profile, and the system's slapd on port 389, if it runs, is left alone.
// Start skips (fails under CI=true) where slapd is not installed.
package slapdtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/ldapauth"
)

// User is a person in the directory.
type User struct {
	UID, Password string
	Name          string   // displayName (and cn); "": cn is the UID and no displayName
	Groups        []string // the cn of each group holding the user
}

// Options is what the directory holds at start.
type Options struct {
	Users []User
}

// Server is a running slapd.
type Server struct {
	LDAPURL  string // ldap://127.0.0.1:PORT, for StartTLS
	LDAPSURL string // ldaps://127.0.0.1:PORT
	CAFile   string // the PEM of the CA that signed the server's certificate
	BaseDN   string // dc=example,dc=org
	PeopleDN string // ou=people,dc=example,dc=org
	GroupsDN string // ou=groups,dc=example,dc=org
	BindDN   string // the service account
	// BindPassword is the service account's password.
	BindPassword string

	rootDN, rootPassword string
	cmd                  *exec.Cmd
	exited               chan struct{}
	stderr               testenv.Buffer
	stop                 sync.Once
}

// Start starts a slapd holding o's users and groups; t's cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := slapdPath(t)
	dir := t.TempDir()
	s := newServer(dir)
	ca := newAuthority(t, "slapdtest CA")
	ca.write(t, s.CAFile)
	ca.issue(t, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	conf := writeConf(t, confData{Dir: dir, Base: s.BaseDN, RootDN: s.rootDN,
		RootHash: SSHA(s.rootPassword), ReaderDN: s.BindDN})
	s.launch(t, bin, conf)
	t.Cleanup(s.Stop)
	s.load(t, o.Users)
	return s
}

func newServer(dir string) *Server {
	const base = "dc=example,dc=org"
	return &Server{
		CAFile:       filepath.Join(dir, "ca.pem"),
		BaseDN:       base,
		PeopleDN:     "ou=people," + base,
		GroupsDN:     "ou=groups," + base,
		BindDN:       "cn=reader," + base,
		BindPassword: randomText(),
		rootDN:       "cn=admin," + base,
		rootPassword: randomText(),
	}
}

// UserDN is the DN of the user uid.
func (s *Server) UserDN(uid string) string { return "uid=" + uid + "," + s.PeopleDN }

// Config is a working configuration for s: a search as the service
// account over LDAPS, trusting s's CA, groups found under ou=groups.
func (s *Server) Config() ldapauth.Config {
	return ldapauth.Config{
		URL:          s.LDAPSURL,
		CAFile:       s.CAFile,
		BindDN:       s.BindDN,
		BindPassword: s.BindPassword,
		UserBase:     s.PeopleDN,
		GroupBase:    s.GroupsDN,
		Timeout:      5 * time.Second,
	}
}

// slapdPath finds slapd, which is in /usr/sbin (not in every user's PATH).
func slapdPath(t testing.TB) string {
	t.Helper()
	const debian = "/usr/sbin/slapd"
	if _, err := os.Stat(debian); err == nil {
		return debian
	}
	return testenv.NeedCommand(t, "slapd")
}

func randomText() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
