package registry

import (
	"context"

	"github.com/provision/provision/access"
)

type principalKey struct{}

// WithPrincipal returns ctx carrying p: every change made with it is
// checked against p's scopes (see checkScopes).
func WithPrincipal(ctx context.Context, p access.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalOf returns the Principal ctx carries.
func PrincipalOf(ctx context.Context) (access.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(access.Principal)
	return p, ok
}
