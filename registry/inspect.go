package registry

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/provision/provision/inventory"
)

// StartInspect asks for system to boot the inventory agent at its next
// network boot (BootPlan.Inspect): it returns the token its report
// carries. Asking again gives a new token.
func (r *Registry) StartInspect(ctx context.Context, system string) (Secret, error) {
	token := newToken()
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.systems.Get(system)
		if !ok {
			return nil, notFound(ObjSystem, system)
		}
		c := old.Clone()
		c.InspectToken = token
		n.unindex(old)
		n.index(&c)
		o := op(ObjSystem, system, old, &c, system, "edit")
		o.Audit.Note = "inspection asked: the next network boot runs the inventory agent"
		return []Op{o}, nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// SystemByInspectToken finds the system an inspection token is for.
func (s *Snapshot) SystemByInspectToken(token string) (*System, bool) {
	if token == "" {
		return nil, false
	}
	return s.byInspect.Get(Secret(token))
}

// FinishInspect stores the inventory an inspection reported (from
// address from), records what changed in the system's history (op
// "inspect") and ends the inspection: the system boots what it did
// before. It returns the machine and the changes.
func (r *Registry) FinishInspect(ctx context.Context, token string, inv inventory.Inventory, from string) (*Machine, []string, error) {
	sys, ok := r.Snapshot().SystemByInspectToken(token)
	if !ok {
		return nil, nil, &Error{ErrNotFound, "inspection: the token is no system's (finished, or asked again since)"}
	}
	subnet := ""
	if ip, err := netip.ParseAddr(sys.IP); err == nil {
		if sub, ok := r.Snapshot().SubnetFor(ip); ok {
			subnet = sub.Name
		}
	}
	m, diff, err := r.saveInventory(ctx, inv, subnet, from, sys)
	if err != nil {
		return nil, nil, fmt.Errorf("system %s: %w", sys.Name, err)
	}
	_, err = r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.byInspect.Get(Secret(token))
		if !ok {
			return nil, nil // finished meanwhile
		}
		c := old.Clone()
		c.InspectToken = ""
		n.unindex(old)
		n.index(&c)
		o := op(ObjSystem, old.Name, old, &c, old.Name, "edit")
		o.Audit.Note = fmt.Sprintf("inspection done: %d changes", len(diff))
		return []Op{o}, nil
	})
	return m, diff, err
}
