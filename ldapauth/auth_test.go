package ldapauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/slapdtest"
	"github.com/provision/provision/ldapauth"
)

var people = []slapdtest.User{
	{UID: "alice", Password: "pw-alice", Name: "Alice Liddell", Groups: []string{"ops", "web"}},
	{UID: "bob", Password: "pw-bob"},
	{UID: "carol", Password: "pw-carol", Name: "Carol", Groups: []string{"admins"}},
}

// modes are the ways of reaching s: LDAPS and StartTLS, a search as the
// service account and a DN template, groups searched for and memberOf.
func modes(s *slapdtest.Server) map[string]ldapauth.Config {
	search := s.Config()
	template := s.Config()
	template.UserBase, template.UserDN = "", "uid={user},"+s.PeopleDN
	startTLS := search
	startTLS.URL, startTLS.StartTLS = s.LDAPURL, true
	startTLSTemplate := template
	startTLSTemplate.URL, startTLSTemplate.StartTLS = s.LDAPURL, true
	asUser := template // no service account: the user reads the groups
	asUser.BindDN, asUser.BindPassword = "", ""
	memberOf := search
	memberOf.GroupBase = ""
	memberOfAsUser := asUser
	memberOfAsUser.GroupBase = ""
	return map[string]ldapauth.Config{
		"ldaps search":                      search,
		"ldaps template":                    template,
		"starttls search":                   startTLS,
		"starttls template":                 startTLSTemplate,
		"template, groups read as the user": asUser,
		"memberOf":                          memberOf,
		"memberOf read as the user":         memberOfAsUser,
	}
}

func TestAuthenticate(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	want := map[string]ldapauth.Identity{
		"alice": {User: "alice", DN: s.UserDN("alice"), Name: "Alice Liddell", Groups: []string{"ops", "web"}},
		"bob":   {User: "bob", DN: s.UserDN("bob"), Name: "bob", Groups: []string{}},
	}
	for name, c := range modes(s) {
		t.Run(name, func(t *testing.T) {
			for user, w := range want {
				id, err := ldapauth.Authenticate(context.Background(), c, user, "pw-"+user)
				if err != nil {
					t.Fatalf("Authenticate(%s): %v", user, err)
				}
				if d := cmp.Diff(w, id); d != "" {
					t.Errorf("Authenticate(%s) (-want +got):\n%s", user, d)
				}
			}
		})
	}
}

// TestAuthenticateUserCase: the directory matches uid without regard to
// case; the identity carries the directory's spelling.
func TestAuthenticateUserCase(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	id, err := ldapauth.Authenticate(context.Background(), s.Config(), "ALICE", "pw-alice")
	if err != nil || id.User != "alice" {
		t.Errorf("Authenticate(ALICE) = %+v, %v; want user alice", id, err)
	}
}

// TestGroupChangeNextLogin: a change of groups in the directory shows at
// the next Authenticate, in every mode (memberOf included).
func TestGroupChangeNextLogin(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	groups := func(c ldapauth.Config) []string {
		t.Helper()
		id, err := ldapauth.Authenticate(context.Background(), c, "alice", "pw-alice")
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		return id.Groups
	}
	s.RemoveFromGroup(t, "alice", "ops")
	s.AddToGroup(t, "alice", "night")
	s.RemoveFromGroup(t, "carol", "admins") // admins is left with no member
	for name, c := range modes(s) {
		if d := cmp.Diff([]string{"night", "web"}, groups(c)); d != "" {
			t.Errorf("%s: alice's groups after leaving ops and joining night (-want +got):\n%s", name, d)
		}
	}
	s.AddToGroup(t, "alice", "ops")
	if d := cmp.Diff([]string{"night", "ops", "web"}, groups(s.Config())); d != "" {
		t.Errorf("alice's groups after joining ops again (-want +got):\n%s", d)
	}
}

func TestContextCancelled(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ldapauth.Authenticate(ctx, s.Config(), "alice", "pw-alice")
	if !errors.Is(err, context.Canceled) || errors.Is(err, ldapauth.ErrBadCredentials) {
		t.Errorf("Authenticate with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestDirectoryMisconfigured: a service account the directory refuses,
// or a user_base it does not hold, is the configuration's fault: an error
// naming the field, never ErrBadCredentials, never the password.
func TestDirectoryMisconfigured(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Users: people})
	tests := []struct {
		name   string
		change func(*ldapauth.Config)
		want   string
	}{
		{"wrong bind_password", func(c *ldapauth.Config) { c.BindPassword = "not-the-service-password" },
			"the service account bind_dn " + s.BindDN + " was refused"},
		{"no such user_base", func(c *ldapauth.Config) { c.UserBase = "ou=staff," + s.BaseDN },
			"the search for the user in ou=staff," + s.BaseDN + `: LDAP Result Code 32 "No Such Object"`},
	}
	for _, tt := range tests {
		c := s.Config()
		tt.change(&c)
		_, err := ldapauth.Authenticate(context.Background(), c, "alice", "pw-alice")
		switch {
		case err == nil || errors.Is(err, ldapauth.ErrBadCredentials) || errors.Is(err, ldapauth.ErrUnreachable):
			t.Errorf("%s: %v, want a configuration error", tt.name, err)
		case strings.Contains(err.Error(), c.BindPassword) || !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: error %q, want it to hold %q and not the password", tt.name, err, tt.want)
		}
	}
}

func since(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }
