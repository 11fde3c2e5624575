package appliance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/ldapauth"
	"github.com/provision/provision/registry"
)

// LDAPConfig is the config file's ldap: section: how the appliance
// reaches the directory (ldapauth.Config's fields, inline), the service
// account's password from a file, and the role (and scopes) each
// directory group gives.
type LDAPConfig struct {
	ldapauth.Config `yaml:",inline"`
	// BindPasswordFile holds bind_password (its first line), so that the
	// config file need not.
	BindPasswordFile string             `yaml:"bind_password_file"`
	Groups           []access.GroupRole `yaml:"groups"`
}

// directory is the ldapauth configuration, with the password of
// bind_password_file.
func (l *LDAPConfig) directory() (ldapauth.Config, error) {
	c := l.Config
	if l.BindPasswordFile == "" {
		return c, nil
	}
	if c.BindPassword != "" {
		return c, errors.New("ldap: give bind_password or bind_password_file, not both")
	}
	b, err := os.ReadFile(l.BindPasswordFile)
	if err != nil {
		return c, fmt.Errorf("ldap bind_password_file: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if c.BindPassword = strings.TrimRight(first, "\r"); c.BindPassword == "" {
		return c, fmt.Errorf("ldap bind_password_file %s: its first line is empty", l.BindPasswordFile)
	}
	return c, nil
}

// checkLogin refuses an ldap: section or a login_ttl that cannot work;
// each error names the field.
func (c Config) checkLogin() error {
	if _, err := c.loginTTL(); err != nil || c.LDAP == nil {
		return err
	}
	dir, err := c.LDAP.directory()
	if err != nil {
		return err
	}
	if err := dir.Check(); err != nil {
		return err
	}
	if len(c.LDAP.Groups) == 0 {
		return errors.New("ldap groups: none is mapped to a role, so nobody could sign in (groups: [{group: ops, role: operator}])")
	}
	if err := access.CheckGroupRoles(c.LDAP.Groups); err != nil {
		return fmt.Errorf("ldap groups: %w", err)
	}
	return nil
}

// loginTTL is how long a directory login's token lasts.
func (c Config) loginTTL() (time.Duration, error) {
	if c.LoginTTL == "" {
		return api.DefaultLoginTTL, nil
	}
	d, err := time.ParseDuration(c.LoginTTL)
	if err != nil || d < time.Minute || d > 31*24*time.Hour {
		return 0, fmt.Errorf("login_ttl %q: want a duration from 1m to 744h, such as 12h", c.LoginTTL)
	}
	return d, nil
}

// loginFunc is the API's Login: directory login, or nil without an
// ldap: section.
func (a *Appliance) loginFunc() func(ctx context.Context, user, password string) (*registry.User, error) {
	if a.cfg.LDAP == nil {
		return nil
	}
	dir, _ := a.cfg.LDAP.directory() // checked at start
	groups := a.cfg.LDAP.Groups
	return func(ctx context.Context, user, password string) (*registry.User, error) {
		return a.login(ctx, dir, groups, user, password)
	}
}

// login signs a person in against the directory and makes or updates
// their user from the groups they are in; a person in no mapped group
// loses their tokens at once and is refused. The registry's changes are
// signed by the person.
func (a *Appliance) login(ctx context.Context, dir ldapauth.Config, groups []access.GroupRole, user, password string) (*registry.User, error) {
	id, err := ldapauth.Authenticate(ctx, dir, user, password)
	if err != nil {
		return nil, err
	}
	ctx = registry.WithActor(ctx, registry.Actor{Name: id.User, Addr: registry.ActorOf(ctx).Addr})
	role, scopes, ok := access.FromGroups(groups, id.Groups)
	if !ok {
		a.revokeDirectoryUser(ctx, id.User)
		return nil, &access.Denied{Msg: fmt.Sprintf("%s signed in, but is in none of the groups mapped to a role: %s", id.User, groupNames(groups))}
	}
	if err := registry.CheckObjectName(registry.ObjUser, id.User); err != nil {
		return nil, fmt.Errorf("directory user %q cannot be a user of the appliance: %w", id.User, err)
	}
	u := registry.User{Name: id.User, Role: string(role), Scopes: scopes, FullName: id.Name}
	if err := a.reg.PutDirectoryUser(ctx, u); err != nil {
		return nil, err
	}
	out, _ := a.reg.Snapshot().User(id.User)
	return out, nil
}

// revokeDirectoryUser revokes every token of a directory user who left
// every mapped group: they lose access now, not when a token expires.
func (a *Appliance) revokeDirectoryUser(ctx context.Context, name string) {
	u, ok := a.reg.Snapshot().User(name)
	if !ok || u.Source != registry.SourceLDAP {
		return
	}
	if n, err := a.reg.RevokeTokens(ctx, name); err != nil {
		a.log.Error("login: the tokens of a user in no mapped group are not revoked", "user", name, "err", err)
	} else if n > 0 {
		a.log.Info("login: a user in no mapped group lost their tokens", "user", name, "tokens", n)
	}
}

func groupNames(groups []access.GroupRole) string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Group
	}
	return strings.Join(names, ", ")
}

// loginTTLOrDefault is the checked login_ttl.
func (a *Appliance) loginTTLOrDefault() time.Duration {
	d, _ := a.cfg.loginTTL()
	return d
}
