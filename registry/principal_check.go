package registry

import (
	"context"
	"fmt"

	"github.com/provision/provision/access"
)

// checkPrincipal refuses a change a scoped principal may not make: every
// op must be about a system, in one of the principal's scopes both as it
// was (base) and as it becomes (next). The API has checked the right of
// the route already; an unscoped principal is not checked here.
func checkPrincipal(ctx context.Context, base, next *Snapshot, ops []Op) error {
	p, ok := PrincipalOf(ctx)
	if !ok || len(p.Scopes) == 0 {
		return nil
	}
	for _, o := range ops {
		if err := checkOp(p, base, next, o); err != nil {
			return err
		}
	}
	return nil
}

func checkOp(p access.Principal, base, next *Snapshot, o Op) error {
	if o.Kind != ObjSystem {
		return p.NotOneSystem(fmt.Sprintf("a change of %s %s", o.Kind, o.Audit.Name))
	}
	right := systemRight(p, o)
	if old, ok := base.systems.Get(o.Prev); ok && o.Prev != "" {
		if err := p.CheckSystem(right, old.Name, base.SiteOf(old), old.Profile); err != nil {
			return err
		}
	}
	if sys, ok := o.Obj.(*System); ok && sys != nil {
		return p.CheckSystem(right, sys.Name, next.SiteOf(sys), sys.Profile)
	}
	return nil
}

// systemRight is the right an op on a system takes: Edit for one who
// holds it, else what an operator's routes change (accepting a machine,
// or a build: reinstall, abort, inspect, netboot). The API checked the
// route's own right; this one words the refusal.
func systemRight(p access.Principal, o Op) access.Right {
	switch {
	case p.Role.Has(access.Edit):
		return access.Edit
	case o.Link != nil:
		return access.Accept
	}
	return access.Build
}
