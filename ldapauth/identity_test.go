package ldapauth

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
)

// TestFromEntry: what the directory says is cleaned of control
// characters (a display name or a group name that would rewrite a
// terminal), memberOf values become group names.
func TestFromEntry(t *testing.T) {
	e := ldap.NewEntry("uid=Alice,ou=people,dc=example,dc=org", map[string][]string{
		"uid":         {"Alice"},
		"displayName": {"Alice\x1b[2J Liddell\r\n"},
		"memberOf": {"cn=ops,ou=groups,dc=example,dc=org", "cn=web\x07,ou=groups,dc=example,dc=org",
			"ou=odd,dc=example,dc=org", "cn=ops,ou=groups,dc=example,dc=org", "cn=\x1b,ou=groups,dc=example,dc=org"},
	})
	id := fromEntry(e, "alice", "cn")
	id.Groups = clean(id.Groups)
	want := Identity{User: "Alice", DN: "uid=Alice,ou=people,dc=example,dc=org", Name: "Alice[2J Liddell",
		Groups: []string{"ops", "ou=odd,dc=example,dc=org", "web"}}
	if d := cmp.Diff(want, id); d != "" {
		t.Errorf("fromEntry (-want +got):\n%s", d)
	}
}

func TestFromEntryNameFallsBackToCN(t *testing.T) {
	e := ldap.NewEntry("uid=bob,dc=x", map[string][]string{"cn": {"Bob"}, "uid": {"robert"}})
	if id := fromEntry(e, "bob", "cn"); id.Name != "Bob" || id.User != "bob" {
		t.Errorf("fromEntry = %+v, want name Bob, user bob (the uid robert is not the name typed)", id)
	}
}
