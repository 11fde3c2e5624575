package slapdtest

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// nobody is the member every group holds, so that none is ever empty.
const nobody = "cn=nobody,"

// load adds the base, the service account, the people and their groups.
func (s *Server) load(t testing.TB, users []User) {
	t.Helper()
	c := s.admin(t)
	defer c.Close()
	s.add(t, c, s.BaseDN, "objectClass", "dcObject", "objectClass", "organization", "o", "example", "dc", "example")
	s.add(t, c, s.PeopleDN, "objectClass", "organizationalUnit", "ou", "people")
	s.add(t, c, s.GroupsDN, "objectClass", "organizationalUnit", "ou", "groups")
	s.add(t, c, s.BindDN, "objectClass", "organizationalRole", "objectClass", "simpleSecurityObject",
		"cn", "reader", "userPassword", SSHA(s.BindPassword))
	members := map[string][]string{}
	for i, u := range users {
		s.addUser(t, c, i, u)
		for _, g := range u.Groups {
			members[g] = append(members[g], s.UserDN(u.UID))
		}
	}
	for g, dns := range members {
		s.addGroup(t, c, g, dns...)
	}
}

func (s *Server) addUser(t testing.TB, c *ldap.Conn, i int, u User) {
	t.Helper()
	cn := u.Name
	if cn == "" {
		cn = u.UID
	}
	attrs := []string{"objectClass", "inetOrgPerson", "objectClass", "posixAccount",
		"uid", u.UID, "cn", cn, "sn", u.UID, "uidNumber", strconv.Itoa(10000 + i), "gidNumber", "10000",
		"homeDirectory", "/home/" + u.UID, "userPassword", SSHA(u.Password)}
	if u.Name != "" {
		attrs = append(attrs, "displayName", u.Name)
	}
	s.add(t, c, s.UserDN(u.UID), attrs...)
}

func (s *Server) addGroup(t testing.TB, c *ldap.Conn, group string, members ...string) {
	t.Helper()
	attrs := []string{"objectClass", "groupOfNames", "cn", group, "member", nobody + s.BaseDN}
	for _, m := range members {
		attrs = append(attrs, "member", m)
	}
	s.add(t, c, s.groupDN(group), attrs...)
}

// AddToGroup puts the user uid in group, which is made if it is new.
func (s *Server) AddToGroup(t testing.TB, uid, group string) {
	t.Helper()
	c := s.admin(t)
	defer c.Close()
	r := ldap.NewModifyRequest(s.groupDN(group), nil)
	r.Add("member", []string{s.UserDN(uid)})
	err := c.Modify(r)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		s.addGroup(t, c, group, s.UserDN(uid))
		return
	}
	if err != nil {
		t.Fatalf("slapdtest: add %s to group %s: %v", uid, group, err)
	}
}

// RemoveFromGroup takes the user uid out of group.
func (s *Server) RemoveFromGroup(t testing.TB, uid, group string) {
	t.Helper()
	c := s.admin(t)
	defer c.Close()
	r := ldap.NewModifyRequest(s.groupDN(group), nil)
	r.Delete("member", []string{s.UserDN(uid)})
	if err := c.Modify(r); err != nil {
		t.Fatalf("slapdtest: remove %s from group %s: %v", uid, group, err)
	}
}

func (s *Server) groupDN(group string) string {
	return "cn=" + ldap.EscapeDN(group) + "," + s.GroupsDN
}

// add adds the entry dn with attrs, pairs of an attribute and a value.
func (s *Server) add(t testing.TB, c *ldap.Conn, dn string, attrs ...string) {
	t.Helper()
	r := ldap.NewAddRequest(dn, nil)
	values := map[string][]string{}
	var order []string
	for i := 0; i+1 < len(attrs); i += 2 {
		if !slices.Contains(order, attrs[i]) {
			order = append(order, attrs[i])
		}
		values[attrs[i]] = append(values[attrs[i]], attrs[i+1])
	}
	for _, a := range order {
		r.Attribute(a, values[a])
	}
	if err := c.Add(r); err != nil {
		t.Fatalf("slapdtest: add %s: %v", dn, err)
	}
}

// admin connects over LDAPS as the rootdn.
func (s *Server) admin(t testing.TB) *ldap.Conn {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatalf("slapdtest: connect to %s: %v", s.LDAPSURL, err)
	}
	if err := c.Bind(s.rootDN, s.rootPassword); err != nil {
		c.Close()
		t.Fatalf("slapdtest: bind as %s: %v", s.rootDN, err)
	}
	return c
}

// SSHA is password's salted SHA-1 hash in the userPassword syntax
// OpenLDAP checks binds against: {SSHA}base64(sha1(password salt) salt).
func SSHA(password string) string {
	salt := make([]byte, 8)
	rand.Read(salt)
	h := sha1.New()
	h.Write([]byte(password))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}
