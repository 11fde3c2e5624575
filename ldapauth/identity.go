package ldapauth

import (
	"context"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/provision/provision/internal/textsafe"
)

// Identity is who signed in.
type Identity struct {
	User   string   // the user name: the entry's uid when it equals the name typed but for case, else the name typed
	DN     string   // the user's entry
	Name   string   // displayName, else cn
	Groups []string // the groups' GroupAttr values, sorted, each once
}

// identity reads the user's entry and groups, control characters
// stripped from what the directory says.
func (s *session) identity(ctx context.Context, user, dn string) (Identity, error) {
	attrs := []string{"uid", "displayName", "cn"}
	if s.c.GroupBase == "" {
		attrs = append(attrs, "memberOf")
	}
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", attrs, nil)
	var res *ldap.SearchResult
	err := s.step(ctx, "reading "+dn, func() (err error) {
		res, err = s.conn.Search(req)
		return err
	})
	if err != nil {
		return Identity{}, err
	}
	id := Identity{User: user, DN: dn}
	if len(res.Entries) == 1 {
		id = fromEntry(res.Entries[0], user, s.c.GroupAttr)
	}
	if s.c.GroupBase != "" {
		if id.Groups, err = s.groups(ctx, user, dn); err != nil {
			return Identity{}, err
		}
	}
	id.Groups = clean(id.Groups)
	return id, nil
}

func fromEntry(e *ldap.Entry, user, groupAttr string) Identity {
	id := Identity{User: user, DN: textsafe.Strip(e.DN)}
	for _, uid := range e.GetEqualFoldAttributeValues("uid") {
		if strings.EqualFold(uid, user) {
			id.User = uid
		}
	}
	id.Name = e.GetEqualFoldAttributeValue("displayName")
	if id.Name == "" {
		id.Name = e.GetEqualFoldAttributeValue("cn")
	}
	id.Name = textsafe.Strip(id.Name)
	for _, g := range e.GetEqualFoldAttributeValues("memberOf") {
		id.Groups = append(id.Groups, groupName(g, groupAttr))
	}
	return id
}

// groupName is a memberOf value's group name: the value of groupAttr in
// the DN's first RDN ("ops" of "cn=ops,ou=groups,dc=example,dc=org"),
// else the whole DN.
func groupName(dn, groupAttr string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 {
		return dn
	}
	for _, a := range d.RDNs[0].Attributes {
		if strings.EqualFold(a.Type, groupAttr) {
			return a.Value
		}
	}
	return dn
}

// groups searches group_base for the groups naming the user.
func (s *session) groups(ctx context.Context, user, dn string) ([]string, error) {
	req := ldap.NewSearchRequest(s.c.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, fill(s.c.GroupFilter, user, dn), []string{s.c.GroupAttr}, nil)
	var res *ldap.SearchResult
	err := s.step(ctx, "the search for groups in "+s.c.GroupBase, func() (err error) {
		res, err = s.conn.Search(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range res.Entries {
		names = append(names, e.GetEqualFoldAttributeValues(s.c.GroupAttr)...)
	}
	return names, nil
}

// clean strips control characters and drops empty names, then sorts the
// rest, each once.
func clean(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n = textsafe.Strip(n); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
