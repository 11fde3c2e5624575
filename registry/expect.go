package registry

import (
	"context"
	"errors"
)

// ErrChanged is the error of a change refused because its object is no
// longer what the caller read (Expecting).
var ErrChanged = errors.New("changed since read")

type expectKey struct{}

type expectation struct {
	kind, name string
	match      func(obj any) bool
}

// Expecting returns ctx whose change is refused with ErrChanged unless
// the object kind (ObjSubnet, ObjImage, ObjProfile, ObjSystem) named name
// passes match as it is when the change runs: the check and the write are
// one step, so no other writer comes between them. obj is a *Subnet,
// *Image, *Profile or *System. An object that does not exist is left to
// the change, which says it is not found.
func Expecting(ctx context.Context, kind, name string, match func(obj any) bool) context.Context {
	return context.WithValue(ctx, expectKey{}, expectation{kind, name, match})
}

// checkExpected applies the expectation of ctx, if any, to cur.
func checkExpected(ctx context.Context, cur *Snapshot) error {
	e, ok := ctx.Value(expectKey{}).(expectation)
	if !ok {
		return nil
	}
	var obj any
	switch e.kind {
	case ObjSubnet:
		if v, ok := cur.Subnet(e.name); ok {
			obj = v
		}
	case ObjImage:
		if v, ok := cur.Image(e.name); ok {
			obj = v
		}
	case ObjProfile:
		if v, ok := cur.Profile(e.name); ok {
			obj = v
		}
	case ObjSystem:
		if v, ok := cur.SystemByName(e.name); ok {
			obj = v
		}
	}
	if obj != nil && !e.match(obj) {
		return &Error{ErrChanged, e.kind + " " + e.name + " changed since it was read: read it again and redo the change"}
	}
	return nil
}
