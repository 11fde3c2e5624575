package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/provision/provision/access"
)

// scoped is ctx carrying a principal of role limited to scopes, signed
// as by.
func scoped(t *testing.T, name string, role access.Role, scopes ...string) context.Context {
	t.Helper()
	sc, err := access.ParseScopes(scopes)
	if err != nil {
		t.Fatal(err)
	}
	p := access.Principal{Name: name, Token: "laptop", Role: role, Scopes: sc}
	return WithActor(WithPrincipal(context.Background(), p), Actor{Name: p.By(), Addr: "192.0.2.7"})
}

// wantDenied checks that err is a refusal (403) with message msg.
func wantDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var d *access.Denied
	if !errors.As(err, &d) || err.Error() != msg {
		t.Errorf("%s: %v, want a refusal %q", what, err, msg)
	}
}

// A principal scoped to site tokyo changes the systems of tokyo, and
// nothing else: not a system of osaka, not a system moved to osaka, not
// a profile or a subnet. History signs its changes.
func TestScopedSystemChanges(t *testing.T) {
	r := openSites(t)
	bg := context.Background()
	must(t, func() error { _, err := r.AddSystem(bg, sys("osaka1", "aa:bb:cc:00:00:02", "10.2.0.11")); return err })
	ctx := scoped(t, "alice", access.Admin, "site=tokyo")
	if _, err := r.AddSystem(ctx, sys("tokyo1", "aa:bb:cc:00:00:01", "10.1.0.11")); err != nil {
		t.Fatalf("add in tokyo: %v", err)
	}
	_, err := r.AddSystem(ctx, sys("osaka2", "aa:bb:cc:00:00:03", "10.2.0.12"))
	wantDenied(t, "add in osaka", err, "alice (admin) may edit systems of site tokyo only: osaka2 is of site osaka, profile web")
	moved := sys("tokyo1", "aa:bb:cc:00:00:01", "10.2.0.13")
	_, err = r.EditSystem(ctx, "tokyo1", moved)
	wantDenied(t, "move to osaka", err, "alice (admin) may edit systems of site tokyo only: tokyo1 is of site osaka, profile web")
	back := sys("osaka1", "aa:bb:cc:00:00:02", "10.1.0.14")
	_, err = r.EditSystem(ctx, "osaka1", back)
	wantDenied(t, "move from osaka", err, "alice (admin) may edit systems of site tokyo only: osaka1 is of site osaka, profile web")
	wantDenied(t, "remove in osaka", r.RemoveSystem(ctx, "osaka1"), "alice (admin) may edit systems of site tokyo only: osaka1 is of site osaka, profile web")
	_, err = r.EditProfile(ctx, "web", Profile{Name: "web", Image: "centos", Settings: map[string]string{"x": "1"}})
	wantDenied(t, "edit profile", err, "alice (admin) is limited to systems of site tokyo: a change of profile web is not about one system")
	_, err = r.AddSubnet(ctx, Subnet{Name: "kyoto", CIDR: "10.3.0.0/24", Site: "kyoto"})
	wantDenied(t, "add subnet", err, "alice (admin) is limited to systems of site tokyo: a change of subnet kyoto is not about one system")
	err = r.AddUser(ctx, User{Name: "mallory", Role: "admin"})
	wantDenied(t, "add user", err, "alice (admin) is limited to systems of site tokyo: a change of user mallory is not about one system")
	if s, ok := r.Snapshot().SystemByName("osaka1"); !ok || s.IP != "10.2.0.11" || r.Snapshot().Count(ObjSubnet) != 3 {
		t.Errorf("a refused change was made: %+v", s)
	}
	edited := sys("tokyo1", "aa:bb:cc:00:00:01", "10.1.0.21")
	if _, err := r.EditSystem(ctx, "tokyo1", edited); err != nil {
		t.Errorf("edit within tokyo: %v", err)
	}
	if err := r.RemoveSystem(ctx, "tokyo1"); err != nil {
		t.Errorf("remove in tokyo: %v", err)
	}
	h, err := r.History(bg, "tokyo1", 10)
	if err != nil || len(h) != 3 {
		t.Fatalf("history of tokyo1: %+v %v", h, err)
	}
	for _, c := range h {
		if c.By != "alice/laptop" || c.From != "192.0.2.7" {
			t.Errorf("history %s by %q from %q", c.Op, c.By, c.From)
		}
	}
	// Unscoped, the same principal's role is the API's business: the
	// registry lets it through.
	if _, err := r.EditProfile(scoped(t, "root", access.Admin), "web", Profile{Name: "web", Image: "centos"}); err != nil {
		t.Errorf("an unscoped admin: %v", err)
	}
}

// An operator scoped to site tokyo reinstalls the systems of tokyo, and
// is told why not for one of osaka; the scope is checked on the change
// the lifecycle makes, whatever the verb.
func TestScopedReinstall(t *testing.T) {
	r, _, _ := openLifecycle(t)
	bg := context.Background()
	for i, site := range []string{"tokyo", "osaka"} {
		n := string(rune('1' + i))
		must(t, func() error {
			_, err := r.AddSubnet(bg, Subnet{Name: site, CIDR: "10." + n + ".0.0/24", Gateway: "10." + n + ".0.1", Site: site})
			return err
		})
	}
	for _, s := range []System{instSys("inst1", "aa:bb:cc:00:00:01", "10.1.0.11"), instSys("inst2", "aa:bb:cc:00:00:02", "10.2.0.11")} {
		must(t, func() error { _, err := r.AddSystem(bg, s); return err })
	}
	ctx := scoped(t, "olga", access.Operator, "site=tokyo")
	if _, err := r.Reinstall(ctx, "inst1"); err != nil {
		t.Errorf("reinstall of inst1 (tokyo): %v", err)
	}
	_, err := r.Reinstall(ctx, "inst2")
	wantDenied(t, "reinstall of inst2 (osaka)", err, "olga (operator) may build systems of site tokyo only: inst2 is of site osaka, profile inst")
	ctx = scoped(t, "olga", access.Operator, "profile=inst", "site=tokyo")
	if _, err := r.Reinstall(ctx, "inst2"); err != nil {
		t.Errorf("reinstall of inst2 with scope profile=inst: %v", err)
	}
}

// An operator scoped to site tokyo accepts a discovered machine into a
// subnet of tokyo, not of osaka: the system it would become is checked.
func TestScopedAccept(t *testing.T) {
	r := openSites(t)
	tick(r)
	report(t, r, machineInv(1, "S1", 7))
	report(t, r, machineInv(2, "S2", 8))
	ctx := scoped(t, "olga", access.Operator, "site=tokyo")
	_, err := r.AcceptMachine(ctx, "S1", Accept{Name: "m1", Profile: "web", Subnet: "osaka"})
	wantDenied(t, "accept into osaka", err, "olga (operator) may accept systems of site tokyo only: m1 is of site osaka, profile web")
	if _, ok := r.Snapshot().SystemByName("m1"); ok {
		t.Error("a refused accept made m1")
	}
	s, err := r.AcceptMachine(ctx, "S2", Accept{Name: "m2", Profile: "web", Subnet: "tokyo"})
	if err != nil || r.Snapshot().SiteOf(s) != "tokyo" {
		t.Errorf("accept into tokyo: %+v %v", s, err)
	}
}
