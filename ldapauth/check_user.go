package ldapauth

import (
	"errors"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// attrName is an attribute's name (RFC 4512's descr) or OID.
var attrName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)$`)

func (c Config) checkUser() error {
	switch {
	case c.UserDN == "" && c.UserBase == "":
		return errors.New("ldap user_dn and user_base: both empty: set user_dn (a DN template with {user}) or user_base (a search as bind_dn)")
	case c.UserDN != "" && c.UserBase != "":
		return fieldErr("user_dn", c.UserDN, "and user_base %q are both set: one finds the user, the DN template or the search", c.UserBase)
	case c.UserDN != "":
		return errors.Join(checkTemplateDN("user_dn", c.UserDN), c.checkBind(false))
	}
	return errors.Join(checkDN("user_base", c.UserBase), checkFilter("user_filter", c.UserFilter, "{user}"), c.checkBind(true))
}

func (c Config) checkBind(needed bool) error {
	switch {
	case c.BindDN == "" && needed:
		return fieldErr("bind_dn", "", "needed with user_base: the service account that searches for users")
	case c.BindDN == "" && c.BindPassword != "":
		return errors.New("ldap bind_password: set without bind_dn")
	case c.BindDN == "":
		return nil
	case c.BindPassword == "":
		return fieldErr("bind_password", "", "empty for bind_dn %q: an empty password binds anonymously", c.BindDN)
	}
	return checkDN("bind_dn", c.BindDN)
}

func (c Config) checkGroups() error {
	if !attrName.MatchString(c.GroupAttr) {
		return fieldErr("group_attr", c.GroupAttr, "not an attribute name")
	}
	if c.GroupBase == "" {
		return nil
	}
	return errors.Join(checkDN("group_base", c.GroupBase), checkFilter("group_filter", c.GroupFilter, ""))
}

func (c Config) checkTimeout() error {
	if c.Timeout < 0 {
		return fieldErr("timeout", c.Timeout.String(), "negative")
	}
	return nil
}

// checkTemplateDN checks a DN template: {user} in it, a DN once filled.
func checkTemplateDN(field, tmpl string) error {
	if !strings.Contains(tmpl, "{user}") {
		return fieldErr(field, tmpl, "no {user} in it")
	}
	if _, err := ldap.ParseDN(strings.ReplaceAll(tmpl, "{user}", "x")); err != nil {
		return fieldErr(field, tmpl, "not a DN: %v", err)
	}
	return nil
}

func checkDN(field, dn string) error {
	if dn == "" {
		return fieldErr(field, dn, "empty")
	}
	if _, err := ldap.ParseDN(dn); err != nil {
		return fieldErr(field, dn, "not a DN: %v", err)
	}
	return nil
}

// checkFilter checks a filter: with need in it (unless need is ""), and
// an LDAP filter once its placeholders are filled.
func checkFilter(field, filter, need string) error {
	if need != "" && !strings.Contains(filter, need) {
		return fieldErr(field, filter, "no %s in it", need)
	}
	if _, err := ldap.CompileFilter(fill(filter, "x", "cn=x")); err != nil {
		return fieldErr(field, filter, "not an LDAP filter: %v", err)
	}
	return nil
}
