package registry

import "context"

// Actor is who asked for a change and from where: the API puts the name
// of the token a request carried and the client's address in the
// request's context, and every history record the change writes keeps
// them (Change.By, Change.From).
type Actor struct {
	Name string // "admin", "installer", ...; empty: the appliance itself
	Addr string // the client's IP address; empty: none
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the Actor ctx carries: the appliance itself when none.
func ActorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "appliance"}
}
