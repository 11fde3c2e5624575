package appliance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/access"
)

// The config file's ldap: section reads into LDAPConfig (ldapauth's
// fields inline), and a section that cannot work is refused at start,
// naming its field, never showing a password.
func TestLDAPConfigChecked(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret-bind\n"), 0o600)
	doc := `ldap:
  url: ldaps://ldap.example.org
  bind_dn: cn=provision,dc=example,dc=org
  bind_password_file: ` + pw + `
  user_base: ou=people,dc=example,dc=org
  timeout: 3s
  groups:
    - {group: ops, role: operator, scopes: [site=tokyo]}
login_ttl: 2h
`
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.LDAP.URL != "ldaps://ldap.example.org" || cfg.LDAP.Timeout != 3*time.Second || cfg.LDAP.Groups[0].Role != access.Operator {
		t.Fatalf("decoded: %+v", cfg.LDAP)
	}
	if d, err := cfg.LDAP.directory(); err != nil || d.BindPassword != "s3cret-bind" {
		t.Fatalf("bind_password_file: %v", err)
	}
	if err := cfg.checkLogin(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(*LDAPConfig, *Config)
		want   string
	}{
		{func(l *LDAPConfig, _ *Config) { l.URL = "ldap://ldap.example.org" }, "ldap url"},
		{func(l *LDAPConfig, _ *Config) { l.Groups = nil }, "ldap groups: none is mapped"},
		{func(l *LDAPConfig, _ *Config) { l.Groups[0].Role = "root" }, "ldap groups: group ops"},
		{func(l *LDAPConfig, _ *Config) { l.Groups[0].Scopes = []string{"rack=1"} }, "ldap groups: group ops"},
		{func(l *LDAPConfig, _ *Config) { l.BindPassword = "x" }, "bind_password or bind_password_file, not both"},
		{func(l *LDAPConfig, _ *Config) { l.BindPasswordFile = filepath.Join(dir, "none") }, "ldap bind_password_file"},
		{func(_ *LDAPConfig, c *Config) { c.LoginTTL = "forever" }, `login_ttl "forever"`},
		{func(_ *LDAPConfig, c *Config) { c.LoginTTL = "10s" }, `login_ttl "10s"`},
	} {
		bad := devConfig(t)
		l := *cfg.LDAP
		l.Groups = []access.GroupRole{{Group: "ops", Role: access.Operator}}
		bad.LDAP, bad.Mirrors = &l, []string{"none"}
		c.change(bad.LDAP, &bad)
		err := bad.Complete()
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("want %q: %v", c.want, err)
		}
	}
}
