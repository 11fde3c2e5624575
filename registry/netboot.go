package registry

import "context"

// SetNetboot turns a system's network boot on or off and changes nothing
// else of it: an operator's netboot, which needs no right to edit the
// system (package access).
func (r *Registry) SetNetboot(ctx context.Context, name string, on bool) (*System, error) {
	var out *System
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.systems.Get(name)
		if !ok {
			return nil, notFound(ObjSystem, name)
		}
		in := old.Clone()
		in.Netboot = on
		var err error
		out, err = n.putSystem(name, in, false, r.now())
		return []Op{op(ObjSystem, name, old, out, name, "edit")}, err
	})
	return out, err
}
