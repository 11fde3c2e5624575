package ldapauth

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// Check refuses a configuration that cannot work or would send a
// password in clear. Each error names the field (as the configuration
// file spells it) and its value; never the password.
func (c Config) Check() error {
	c = c.withDefaults()
	return errors.Join(c.checkURL(), c.checkCA(), c.checkUser(), c.checkGroups(), c.checkTimeout())
}

func fieldErr(field, value, format string, a ...any) error {
	return fmt.Errorf("ldap %s %q: %s", field, value, fmt.Sprintf(format, a...))
}

func (c Config) checkURL() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New(`ldap url: missing: ldaps://host[:636], or ldap://host[:389] with start_tls: true`)
	case err != nil:
		return fieldErr("url", c.URL, "not a URL: %v", err)
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		return fieldErr("url", c.URL, "the scheme is ldaps:// or ldap://, not %s://", u.Scheme)
	case u.Hostname() == "":
		return fieldErr("url", c.URL, "no host")
	case u.User != nil:
		return errors.New("ldap url: holds a user or a password (not shown): use bind_dn and bind_password")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fieldErr("url", c.URL, "scheme, host and port only")
	case u.Scheme == "ldap" && !c.StartTLS:
		return fieldErr("url", c.URL, "plain ldap:// sends passwords in clear: set start_tls: true, or use ldaps://")
	case u.Scheme == "ldaps" && c.StartTLS:
		return fieldErr("url", c.URL, "start_tls is for ldap://; ldaps:// is TLS from the start")
	}
	return nil
}

func (c Config) checkCA() error {
	if c.CAFile == "" {
		return nil
	}
	_, err := readCA(c.CAFile)
	return err
}

// readCA reads the PEM certificates of file into a pool.
func readCA(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fieldErr("ca_file", file, "%v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fieldErr("ca_file", file, "no PEM certificate in it")
	}
	return pool, nil
}
