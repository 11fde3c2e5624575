package ldapauth

import (
	"time"
)

// Config is how the appliance reaches the directory, from the
// appliance's configuration file. Either UserDN (a DN template: the
// user's DN is made from the name typed, with no search) or UserBase (a
// search as the service account BindDN) finds the user; GroupBase (a
// search of the groups naming the user) or, when empty, the user's
// memberOf attribute gives the groups. {user} is the name typed, escaped
// for where it goes (a DN or a filter); {dn} is the user's DN.
//
// A search as a service account, over LDAPS:
//
//	url: ldaps://ldap.example.org
//	ca_file: /etc/provision/ldap-ca.pem
//	bind_dn: cn=provision,ou=services,dc=example,dc=org
//	bind_password: s3cret
//	user_base: ou=people,dc=example,dc=org
//	user_filter: (uid={user})
//	group_base: ou=groups,dc=example,dc=org
//	group_filter: (|(member={dn})(uniqueMember={dn})(memberUid={user}))
//	group_attr: cn
//	timeout: 5s
//
// A DN template over LDAP with StartTLS, groups from memberOf:
//
//	url: ldap://ldap.example.org
//	start_tls: true
//	user_dn: uid={user},ou=people,dc=example,dc=org
type Config struct {
	// URL is ldaps://host[:636] or ldap://host[:389] (with StartTLS).
	URL string `yaml:"url" json:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before any bind;
	// ldap:// without it is refused, so passwords never cross in clear.
	StartTLS bool `yaml:"start_tls" json:"start_tls"`
	// CAFile is the PEM of the CA that signed the directory's
	// certificate; "": the system's roots.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// ServerName is the name the directory's certificate must hold;
	// "": the URL's host.
	ServerName string `yaml:"server_name" json:"server_name"`

	// UserDN is a DN template, "uid={user},ou=people,dc=example,dc=org".
	UserDN string `yaml:"user_dn" json:"user_dn"`
	// BindDN and BindPassword are the service account's, which searches
	// for users (with UserBase) and reads groups. BindPassword is a
	// secret: it is in no log and no error.
	BindDN       string `yaml:"bind_dn" json:"bind_dn"`
	BindPassword string `yaml:"bind_password" json:"-"`
	// UserBase is where users are searched for, with UserFilter
	// (default "(uid={user})"): exactly one entry must match.
	UserBase   string `yaml:"user_base" json:"user_base"`
	UserFilter string `yaml:"user_filter" json:"user_filter"`

	// GroupBase is where groups are searched for, with GroupFilter
	// (default DefaultGroupFilter); "": the user's memberOf values.
	GroupBase   string `yaml:"group_base" json:"group_base"`
	GroupFilter string `yaml:"group_filter" json:"group_filter"`
	// GroupAttr is the attribute naming a group (default "cn"); with
	// memberOf, its value in the group DN's first RDN (else the whole DN).
	GroupAttr string `yaml:"group_attr" json:"group_attr"`

	// Timeout bounds each exchange with the directory (connecting, the
	// TLS handshake, a bind, a search); default 5s.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// The defaults of Config's empty fields.
const (
	DefaultUserFilter  = "(uid={user})"
	DefaultGroupFilter = "(|(member={dn})(uniqueMember={dn})(memberUid={user}))"
	DefaultGroupAttr   = "cn"
	DefaultTimeout     = 5 * time.Second
)

// withDefaults is c with its empty fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.UserFilter == "" {
		c.UserFilter = DefaultUserFilter
	}
	if c.GroupFilter == "" {
		c.GroupFilter = DefaultGroupFilter
	}
	if c.GroupAttr == "" {
		c.GroupAttr = DefaultGroupAttr
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}
