package ldapauth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/slapdtest"
	"github.com/provision/provision/internal/tlscert"
	"github.com/provision/provision/ldapauth"
)

// TestBadCredentials: every refused sign-in is ErrBadCredentials, a wrong
// password and an unknown user with the same message, and a name built to
// widen the search or the DN ("alic*", "*)(uid=*", "alice,ou=people")
// signs nobody in even with a real password.
func TestBadCredentials(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	tests := []struct{ name, user, password, msg string }{
		{"wrong password", "alice", "pw-bob", "wrong user name or password for alice"},
		{"unknown user", "mallory", "pw-alice", "wrong user name or password for mallory"},
		{"empty password", "alice", "", "empty password for alice refused"},
		{"wildcard", "alic*", "pw-alice", "wrong user name or password for alic*"},
		{"filter injection", "*)(uid=*", "pw-alice", "wrong user name or password for *)(uid=*"},
		{"filter injection 2", "alice)(|(uid=*", "pw-alice", "wrong user name or password for"},
		{"DN injection", "alice,ou=people", "pw-alice", "wrong user name or password for alice,ou=people"},
		{"NUL", "alice\x00", "pw-alice", `the user name "alice\x00" is refused: it holds a control character`},
		{"escape sequence", "\x1b[2Jalice", "pw-alice", `the user name "\x1b[2Jalice" is refused`},
		{"newline", "ali\nce", "pw-alice", `the user name "ali\nce" is refused`},
		{"not UTF-8", "ali\xffce", "pw-alice", `the user name "ali\xffce" is refused: it holds a control character or is not UTF-8`},
		{"too long", strings.Repeat("a", 257), "pw-alice", "a user name of 257 bytes is refused (at most 256)"},
		{"empty user", "", "pw-alice", "no user name"},
	}
	for name, c := range modes(s) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				id, err := ldapauth.Authenticate(context.Background(), c, tt.user, tt.password)
				if !errors.Is(err, ldapauth.ErrBadCredentials) {
					t.Fatalf("Authenticate(%q) = %+v, %v; want ErrBadCredentials", tt.user, id, err)
				}
				want := "directory " + c.URL + ": " + tt.msg
				if !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want it to start %q", err, want)
				}
				if tt.password != "" && strings.Contains(err.Error(), tt.password) {
					t.Errorf("error %q holds the password", err)
				}
			})
		}
	}
}

// TestSameAnswerForUnknownUser: nothing in the error of an unknown user
// differs from a wrong password's but the name.
func TestSameAnswerForUnknownUser(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	for name, c := range modes(s) {
		_, wrong := ldapauth.Authenticate(context.Background(), c, "alice", "nope")
		_, unknown := ldapauth.Authenticate(context.Background(), c, "zed", "nope")
		if wrong == nil || unknown == nil || strings.ReplaceAll(unknown.Error(), "zed", "alice") != wrong.Error() {
			t.Errorf("%s: wrong password %q, unknown user %q: want the same message", name, wrong, unknown)
		}
		if errors.Unwrap(wrong) != nil || errors.Unwrap(unknown) != nil {
			t.Errorf("%s: the errors wrap a cause (%v, %v), which could tell them apart", name, errors.Unwrap(wrong), errors.Unwrap(unknown))
		}
	}
}

// TestUnreachable: a stopped directory, a port nobody listens on and a
// directory that accepts connections but never answers are all
// ErrUnreachable naming the URL, each within the timeout.
func TestUnreachable(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	stopped := modes(s)
	s.Stop()
	const timeout = 500 * time.Millisecond
	for name, c := range stopped {
		c.Timeout = timeout
		unreachable(t, "stopped, "+name, c, "connection refused")
	}
	c := s.Config()
	c.Timeout = timeout
	c.URL = "ldaps://127.0.0.1:" + closedPort(t)
	unreachable(t, "nobody listens", c, "connection refused")
	for _, url := range []string{"ldaps://", "ldap://"} {
		c.URL, c.StartTLS = url+silent(t), url == "ldap://"
		unreachable(t, "silent "+url, c, "no answer to ")
	}
	addr, cert := silentTLS(t)
	c.URL, c.StartTLS, c.CAFile = "ldaps://"+addr, false, cert
	unreachable(t, "silent after TLS", c, "no answer to the bind as bind_dn "+c.BindDN+" within 500ms")
}

func unreachable(t *testing.T, name string, c ldapauth.Config, msg string) {
	t.Helper()
	start := time.Now()
	_, err := ldapauth.Authenticate(context.Background(), c, "alice", "pw-alice")
	took := since(start)
	if !errors.Is(err, ldapauth.ErrUnreachable) || errors.Is(err, ldapauth.ErrBadCredentials) {
		t.Errorf("%s: %v, want ErrUnreachable", name, err)
		return
	}
	if want := "directory " + c.URL + ": unreachable: "; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: error %q, want it to start %q and hold %q", name, err, want, msg)
	}
	if took > c.Timeout+time.Second {
		t.Errorf("%s: took %v, timeout %v", name, took, c.Timeout)
	}
	t.Logf("%s: %v after %v", name, err, took)
}

// closedPort is a port of 127.0.0.1 that refuses connections.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")
}

// silent is the address of a listener that accepts connections and
// never says a word, as a hung directory.
func silent(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return hold(t, l, func(net.Conn) {})
}

// silentTLS is silent after the TLS handshake; its certificate (the
// self-signed one tlscert.Ensure makes) is in certFile.
func silentTLS(t *testing.T) (addr, certFile string) {
	dir := t.TempDir()
	certFile = filepath.Join(dir, "cert.pem")
	cert, err := tlscert.Ensure(certFile, filepath.Join(dir, "key.pem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	return hold(t, l, func(c net.Conn) { c.(*tls.Conn).Handshake() }), certFile
}

// hold accepts l's connections, greets each, and holds them open until
// t ends.
func hold(t *testing.T, l net.Listener, greet func(net.Conn)) string {
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			greet(c)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestUntrusted: a certificate from a CA ca_file does not hold, or for
// another name, is ErrUntrusted and says so; never ErrBadCredentials.
func TestUntrusted(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	other := slapdtest.UntrustedCA(t)
	for name, c := range modes(s) {
		c.CAFile = other
		untrusted(t, "other CA, "+name, c, "certificate signed by unknown authority")
	}
	c := s.Config()
	c.ServerName = "ldap.example.org"
	untrusted(t, "other name", c, "not ldap.example.org")
	c.URL, c.StartTLS = s.LDAPURL, true
	untrusted(t, "other name, starttls", c, "not ldap.example.org")
}

func untrusted(t *testing.T, name string, c ldapauth.Config, msg string) {
	t.Helper()
	_, err := ldapauth.Authenticate(context.Background(), c, "alice", "pw-alice")
	if !errors.Is(err, ldapauth.ErrUntrusted) || errors.Is(err, ldapauth.ErrBadCredentials) {
		t.Errorf("%s: %v, want ErrUntrusted", name, err)
		return
	}
	if want := "directory " + c.URL + ": its certificate is not trusted: "; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: error %q, want it to start %q and hold %q", name, err, want, msg)
	}
	t.Logf("%s: %v", name, err)
}
