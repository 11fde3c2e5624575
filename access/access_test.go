package access

import (
	"errors"
	"strings"
	"testing"
)

func TestRolesNest(t *testing.T) {
	for i := 1; i < len(Roles); i++ {
		for _, right := range Roles[i-1].Rights() {
			if !Roles[i].Has(right) {
				t.Errorf("%s has %s but %s does not", Roles[i-1], right, Roles[i])
			}
		}
	}
	if Viewer.Has(Power) || Operator.Has(Templates) || Operator.Has(Secrets) || !Admin.Has(Users) {
		t.Errorf("the rights table changed: %v %v %v", Viewer.Rights(), Operator.Rights(), Admin.Rights())
	}
	for _, r := range AllRights {
		if r.About() == "" {
			t.Errorf("right %s is not described", r)
		}
	}
}

func TestCan(t *testing.T) {
	alice := Principal{Name: "alice", Role: Operator}
	if err := alice.Can(Power); err != nil {
		t.Fatal(err)
	}
	err := alice.Can(Templates)
	var d *Denied
	if !errors.As(err, &d) || !strings.Contains(err.Error(), "alice (operator) may not edit templates (the templates right): that takes the admin role") {
		t.Fatalf("Can(Templates) = %v", err)
	}
}

func TestScopes(t *testing.T) {
	sc, err := ParseScopes([]string{"site=tokyo", "profile=web"})
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{Name: "bob", Role: Admin, Scopes: sc}
	if err := p.CheckSystem(Power, "web001", "tokyo", "db"); err != nil {
		t.Errorf("tokyo: %v", err)
	}
	if err := p.CheckSystem(Power, "web002", "osaka", "web"); err != nil {
		t.Errorf("profile web: %v", err)
	}
	err = p.CheckSystem(Power, "db002", "osaka", "db")
	if err == nil || !strings.Contains(err.Error(), "bob (admin) may power systems of site tokyo or profile web only: db002 is of site osaka, profile db") {
		t.Errorf("osaka db: %v", err)
	}
	if err := p.Can(Templates); err == nil || !strings.Contains(err.Error(), "not about one system") {
		t.Errorf("a scoped admin edits templates: %v", err)
	}
	for _, bad := range []string{"site", "site=", "rack=1", "=x"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
}

func TestFromGroups(t *testing.T) {
	m := []GroupRole{
		{Group: "viewers", Role: Viewer},
		{Group: "ops-tokyo", Role: Operator, Scopes: []string{"site=tokyo"}},
		{Group: "ops-osaka", Role: Operator, Scopes: []string{"site=osaka"}},
		{Group: "ops", Role: Operator},
		{Group: "root", Role: Admin},
	}
	if err := CheckGroupRoles(m); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		groups []string
		role   Role
		scopes string
		ok     bool
	}{
		{nil, "", "", false},
		{[]string{"other"}, "", "", false},
		{[]string{"viewers"}, Viewer, "", true},
		{[]string{"viewers", "ops-tokyo"}, Operator, "site=tokyo", true},
		{[]string{"ops-osaka", "ops-tokyo"}, Operator, "site=osaka,site=tokyo", true},
		{[]string{"ops-tokyo", "ops"}, Operator, "", true},
		{[]string{"ops-tokyo", "root"}, Admin, "", true},
	} {
		role, scopes, ok := FromGroups(m, c.groups)
		if role != c.role || strings.Join(scopes, ",") != c.scopes || ok != c.ok {
			t.Errorf("FromGroups(%v) = %s %v %v, want %s %s %v", c.groups, role, scopes, ok, c.role, c.scopes, c.ok)
		}
	}
	if err := CheckGroupRoles([]GroupRole{{Group: "x", Role: "root"}}); err == nil {
		t.Error("role root accepted")
	}
}

func TestRightsTable(t *testing.T) {
	tab := RightsTable()
	if !strings.Contains(tab, "| power | power systems through their BMC; ask BMCs their state now | | ✓ | ✓ |") {
		t.Errorf("table:\n%s", tab)
	}
}
