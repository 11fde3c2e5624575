package ldapauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	good := Config{URL: "ldaps://ldap.example.org", BindDN: "cn=reader,dc=example,dc=org", BindPassword: "s3cret-pw",
		UserBase: "ou=people,dc=example,dc=org", GroupBase: "ou=groups,dc=example,dc=org"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for no error
	}{
		{"search", func(c *Config) {}, ""},
		{"template over starttls", func(c *Config) {
			c.URL, c.StartTLS, c.UserBase, c.BindDN, c.BindPassword = "ldap://ldap.example.org:389", true, "", "", ""
			c.UserDN = "uid={user},ou=people,dc=example,dc=org"
		}, ""},
		{"ldap without starttls", func(c *Config) { c.URL = "ldap://ldap.example.org" },
			`ldap url "ldap://ldap.example.org": plain ldap:// sends passwords in clear: set start_tls: true, or use ldaps://`},
		{"ldaps with starttls", func(c *Config) { c.StartTLS = true }, `ldap url "ldaps://ldap.example.org": start_tls is for ldap://`},
		{"no url", func(c *Config) { c.URL = "" }, "ldap url: missing"},
		{"bad url", func(c *Config) { c.URL = "ldaps://ldap.example.org:port" }, `ldap url "ldaps://ldap.example.org:port": not a URL`},
		{"other scheme", func(c *Config) { c.URL = "https://ldap.example.org" }, `ldap url "https://ldap.example.org": the scheme is ldaps:// or ldap://, not https://`},
		{"no host", func(c *Config) { c.URL = "ldaps:///dc=example" }, `ldap url "ldaps:///dc=example": no host`},
		{"a path", func(c *Config) { c.URL = "ldaps://h/dc=example,dc=org" }, `ldap url "ldaps://h/dc=example,dc=org": scheme, host and port only`},
		{"password in url", func(c *Config) { c.URL = "ldaps://u:hunter2@h" }, "ldap url: holds a user or a password (not shown)"},
		{"neither", func(c *Config) { c.UserBase = "" }, "ldap user_dn and user_base: both empty"},
		{"both", func(c *Config) { c.UserDN = "uid={user},dc=example,dc=org" }, `ldap user_dn "uid={user},dc=example,dc=org": and user_base "ou=people,dc=example,dc=org" are both set`},
		{"template without {user}", func(c *Config) { c.UserBase, c.UserDN = "", "uid=alice,dc=example,dc=org" }, `ldap user_dn "uid=alice,dc=example,dc=org": no {user} in it`},
		{"template not a DN", func(c *Config) { c.UserBase, c.UserDN = "", "{user}" }, `ldap user_dn "{user}": not a DN`},
		{"search without bind_dn", func(c *Config) { c.BindDN, c.BindPassword = "", "" }, `ldap bind_dn "": needed with user_base`},
		{"bind_dn without password", func(c *Config) { c.BindPassword = "" }, `ldap bind_password "": empty for bind_dn "cn=reader,dc=example,dc=org"`},
		{"password without bind_dn", func(c *Config) { c.UserBase, c.UserDN, c.BindDN = "", "uid={user},dc=x", "" }, "ldap bind_password: set without bind_dn"},
		{"bad bind_dn", func(c *Config) { c.BindDN = "reader" }, `ldap bind_dn "reader": not a DN`},
		{"bad user_base", func(c *Config) { c.UserBase = "people" }, `ldap user_base "people": not a DN`},
		{"user_filter without {user}", func(c *Config) { c.UserFilter = "(uid=alice)" }, `ldap user_filter "(uid=alice)": no {user} in it`},
		{"bad user_filter", func(c *Config) { c.UserFilter = "uid={user}" }, `ldap user_filter "uid={user}": not an LDAP filter`},
		{"bad group_filter", func(c *Config) { c.GroupFilter = "(member={dn}" }, `ldap group_filter "(member={dn}": not an LDAP filter`},
		{"bad group_base", func(c *Config) { c.GroupBase = "groups" }, `ldap group_base "groups": not a DN`},
		{"bad group_attr", func(c *Config) { c.GroupAttr = "cn)(x" }, `ldap group_attr "cn)(x": not an attribute name`},
		{"ca_file missing", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, `ldap ca_file "/nonexistent/ca.pem": open /nonexistent/ca.pem: no such file or directory`},
		{"ca_file not PEM", func(c *Config) { c.CAFile = notPEM }, `ldap ca_file "` + notPEM + `": no PEM certificate in it`},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, `ldap timeout "-1s": negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Errorf("Check: %v, want an error starting %q", err, tt.want)
			case err != nil && (strings.Contains(err.Error(), "s3cret-pw") || strings.Contains(err.Error(), "hunter2")):
				t.Errorf("Check: %q shows a password", err)
			}
		})
	}
}
