package ldapauth

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// MaxUserLen is the longest user name Authenticate accepts, in bytes.
const MaxUserLen = 256

// Authenticate signs user in with password: it finds the user's DN,
// binds as the user with the password, then reads the user's name and
// groups (as the service account when there is one, else as the user).
func Authenticate(ctx context.Context, c Config, user, password string) (Identity, error) {
	c = c.withDefaults()
	if err := c.Check(); err != nil {
		return Identity{}, err
	}
	if err := checkLogin(c.URL, user, password); err != nil {
		return Identity{}, err
	}
	s, err := open(ctx, c)
	if err != nil {
		return Identity{}, err
	}
	defer s.close()
	dn, err := s.findUser(ctx, user)
	if err != nil {
		return Identity{}, err
	}
	if err := s.bindUser(ctx, user, dn, password); err != nil {
		return Identity{}, err
	}
	if c.BindDN != "" {
		if err := s.bindService(ctx); err != nil {
			return Identity{}, err
		}
	}
	return s.identity(ctx, user, dn)
}

// checkLogin refuses, before any exchange, what cannot be a sign-in: an
// empty password above all, which a directory takes for an anonymous
// bind that succeeds.
func checkLogin(url, user, password string) error {
	refuse := func(format string, a ...any) error {
		return &dirError{url: url, msg: fmt.Sprintf(format, a...), kind: ErrBadCredentials}
	}
	switch {
	case user == "":
		return refuse("no user name")
	case len(user) > MaxUserLen:
		return refuse("a user name of %d bytes is refused (at most %d)", len(user), MaxUserLen)
	case !utf8.ValidString(user) || strings.ContainsFunc(user, unicode.IsControl):
		return refuse("the user name %q is refused: it holds a control character or is not UTF-8", user)
	case password == "":
		return refuse("empty password for %s refused (a bind with no password is anonymous)", user)
	}
	return nil
}

// findUser is the user's DN: the template filled in, or the one entry
// the search as the service account finds. No entry, or more than one,
// is the same ErrBadCredentials as a wrong password.
func (s *session) findUser(ctx context.Context, user string) (string, error) {
	if s.c.UserDN != "" {
		return strings.ReplaceAll(s.c.UserDN, "{user}", ldap.EscapeDN(user)), nil
	}
	if err := s.bindService(ctx); err != nil {
		return "", err
	}
	req := ldap.NewSearchRequest(s.c.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, 0, false, fill(s.c.UserFilter, user, ""), []string{"1.1"}, nil)
	var res *ldap.SearchResult
	err := s.step(ctx, "the search for the user in "+s.c.UserBase, func() (err error) {
		res, err = s.conn.Search(req)
		return err
	})
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return "", badCredentials(s.c.URL, user)
	case err != nil:
		return "", err
	case len(res.Entries) != 1:
		return "", badCredentials(s.c.URL, user)
	}
	return res.Entries[0].DN, nil
}

// bindUser binds as the user: the directory's refusal (wrong password,
// no such entry, a name that makes no DN) is ErrBadCredentials.
func (s *session) bindUser(ctx context.Context, user, dn, password string) error {
	err := s.step(ctx, "the bind as "+user, func() error { return s.conn.Bind(dn, password) })
	if ldap.IsErrorAnyOf(err, ldap.LDAPResultInvalidCredentials, ldap.LDAPResultNoSuchObject, ldap.LDAPResultInvalidDNSyntax) {
		return badCredentials(s.c.URL, user)
	}
	return err
}

// bindService binds as the service account. Its refusal is the
// configuration's fault, not the user's: not ErrBadCredentials.
func (s *session) bindService(ctx context.Context) error {
	err := s.step(ctx, "the bind as bind_dn "+s.c.BindDN, func() error {
		return s.conn.Bind(s.c.BindDN, s.c.BindPassword)
	})
	if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return &dirError{url: s.c.URL, msg: "the service account bind_dn " + s.c.BindDN + " was refused: check bind_dn and bind_password", cause: err}
	}
	return err
}

// fill puts user and dn, escaped for a filter, into filter's {user} and
// {dn}.
func fill(filter, user, dn string) string {
	return strings.NewReplacer("{user}", ldap.EscapeFilter(user), "{dn}", ldap.EscapeFilter(dn)).Replace(filter)
}
