package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/access"
)

// openSites is openTest plus subnets tokyo (10.1.0.0/24) and osaka
// (10.2.0.0/24) of the sites of those names.
func openSites(t *testing.T) *Registry {
	t.Helper()
	r, _ := openTest(t)
	ctx := context.Background()
	for i, site := range []string{"tokyo", "osaka"} {
		n := string(rune('1' + i))
		must(t, func() error {
			_, err := r.AddSubnet(ctx, Subnet{Name: site, CIDR: "10." + n + ".0.0/24", Gateway: "10." + n + ".0.1", Site: site})
			return err
		})
	}
	return r
}

func TestUsers(t *testing.T) {
	r := openSites(t)
	ctx := context.Background()
	alice := User{Name: "alice", Role: "operator", Scopes: []string{"site=tokyo", "profile=web", "site=tokyo"}, FullName: "Alice\x1b[31m Liddell\n"}
	must(t, func() error { return r.AddUser(ctx, alice) })
	got, ok := r.Snapshot().User("alice")
	want := &User{Name: "alice", Role: "operator", Scopes: []string{"profile=web", "site=tokyo"}, FullName: "Alice[31m Liddell"}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Fatalf("stored user (-want +got):\n%s", diff)
	}
	p := got.Principal("laptop")
	if p.By() != "alice/laptop" || p.Role != access.Operator || len(p.Scopes) != 2 || !p.InScope("tokyo", "db") || p.InScope("osaka", "db") {
		t.Errorf("principal: %+v", p)
	}
	if err := r.AddUser(ctx, User{Name: "alice", Role: "viewer"}); !errors.Is(err, ErrConflict) {
		t.Errorf("a second alice: %v", err)
	}
	for _, c := range []struct {
		u    User
		want string
	}{
		{User{Name: "admin", Role: "admin"}, "user admin: the name is reserved"},
		{User{Name: "installer", Role: "viewer"}, "user installer: the name is reserved"},
		{User{Name: "read-only", Role: "viewer"}, "user read-only: the name is reserved"},
		{User{Name: "bob", Role: "root"}, `user bob: role "root": not one of viewer, operator, admin`},
		{User{Name: "bob", Role: ""}, `user bob: role "": not one of`},
		{User{Name: "bob", Role: "viewer", Scopes: []string{"site=tokoy"}}, "user bob: scope site=tokoy: no subnet has site tokoy"},
		{User{Name: "bob", Role: "viewer", Scopes: []string{"profile=nope"}}, "user bob: scope profile=nope: profile nope not found"},
		{User{Name: "bob", Role: "viewer", Scopes: []string{"rack=1"}}, `user bob: scope "rack=1": write site=SITE or profile=PROFILE`},
		{User{Name: "bob", Role: "viewer", Source: "oidc"}, `user bob: source "oidc"`},
		{User{Name: "bob/x", Role: "viewer"}, `user name "bob/x"`},
	} {
		err := r.AddUser(ctx, c.u)
		if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("AddUser(%+v) = %v, want %q", c.u, err, c.want)
		}
	}
	if _, ok := r.Snapshot().User("bob"); ok {
		t.Error("a refused bob was stored")
	}
}

func TestEditRemoveUser(t *testing.T) {
	r := openSites(t)
	ctx := context.Background()
	must(t, func() error { return r.AddUser(ctx, User{Name: "alice", Role: "viewer"}) })
	must(t, func() error { return r.EditUser(ctx, "alice", User{Role: "admin", Scopes: []string{"site=osaka"}}) })
	if u, _ := r.Snapshot().User("alice"); u.Role != "admin" || strings.Join(u.Scopes, ",") != "site=osaka" {
		t.Errorf("after edit: %+v", u)
	}
	if err := r.EditUser(ctx, "alice", User{Name: "alicia", Role: "admin"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a rename: %v", err)
	}
	if err := r.EditUser(ctx, "carol", User{Role: "admin"}); !errors.Is(err, ErrNotFound) || err.Error() != "user carol not found" {
		t.Errorf("edit of no one: %v", err)
	}
	if err := r.EditUser(ctx, "alice", User{Role: "boss"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("edit to role boss: %v", err)
	}
	must(t, func() error { return r.RemoveUser(ctx, "alice") })
	if _, ok := r.Snapshot().User("alice"); ok || r.Snapshot().Count(ObjUser) != 0 {
		t.Error("alice is still there")
	}
	if err := r.RemoveUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove twice: %v", err)
	}
	h, err := r.History(ctx, "alice", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range h {
		ops = append(ops, c.Kind+" "+c.Op)
	}
	all := strings.Join(ops, ",")
	if !strings.Contains(all, "user add") || !strings.Contains(all, "user edit") || !strings.Contains(all, "user remove") {
		t.Errorf("history of alice: %v", ops)
	}
}

// A directory login makes its user, writes nothing when nothing changed,
// follows the directory's changes, and does not take over a user made by
// hand.
func TestPutDirectoryUser(t *testing.T) {
	r := openSites(t)
	ctx := context.Background()
	dave := User{Name: "dave", Role: "operator", Scopes: []string{"site=kyoto"}, FullName: "Dave"}
	must(t, func() error { return r.PutDirectoryUser(ctx, dave) })
	u, ok := r.Snapshot().User("dave")
	if !ok || u.Source != SourceLDAP || u.Scopes[0] != "site=kyoto" {
		t.Fatalf("directory user: %+v", u)
	}
	serial := r.Snapshot().Serial
	must(t, func() error { return r.PutDirectoryUser(ctx, dave) })
	if r.Snapshot().Serial != serial {
		t.Error("an unchanged directory login wrote")
	}
	dave.Role = "viewer"
	must(t, func() error { return r.PutDirectoryUser(ctx, dave) })
	if u, _ := r.Snapshot().User("dave"); u.Role != "viewer" || r.Snapshot().Serial == serial {
		t.Errorf("the directory's new role was not taken: %+v", u)
	}
	must(t, func() error { return r.AddUser(ctx, User{Name: "erin", Role: "viewer"}) })
	err := r.PutDirectoryUser(ctx, User{Name: "erin", Role: "admin"})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "user erin was made by hand") {
		t.Errorf("a takeover of erin: %v", err)
	}
	if u, _ := r.Snapshot().User("erin"); u.Role != "viewer" || u.Source != SourceHand {
		t.Errorf("erin after the refused takeover: %+v", u)
	}
	if err := r.PutDirectoryUser(ctx, User{Name: "admin", Role: "admin"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a directory user named admin: %v", err)
	}
}
