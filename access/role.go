package access

import (
	"fmt"
	"slices"
	"strings"
)

// Role is a fixed set of rights.
type Role string

// The roles, from fewest rights to most.
const (
	Viewer   Role = "viewer"
	Operator Role = "operator"
	Admin    Role = "admin"
)

// Roles are the roles, from fewest rights to most.
var Roles = []Role{Viewer, Operator, Admin}

// ParseRole checks a role's name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("role %q: not one of %s", s, roleNames())
	}
	return r, nil
}

func roleNames() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// rank orders the roles: a higher one holds every right of a lower one.
func (r Role) rank() int { return slices.Index(Roles, r) }

// Has reports whether the role holds right.
func (r Role) Has(right Right) bool { return slices.Contains(roleRights[r], right) }

// Rights lists the role's rights, in the order of AllRights.
func (r Role) Rights() []Right { return slices.Clone(roleRights[r]) }

// lowest names the lowest role holding right ("" when none does).
func lowest(right Right) Role {
	for _, r := range Roles {
		if r.Has(right) {
			return r
		}
	}
	return ""
}
