package access

import (
	"fmt"
	"slices"
)

// GroupRole maps a directory group to a role, with scopes (none: every
// system).
type GroupRole struct {
	Group  string   `yaml:"group" json:"group"`
	Role   Role     `yaml:"role" json:"role"`
	Scopes []string `yaml:"scopes,omitempty" json:"scopes,omitempty"`
}

// CheckGroupRoles checks a mapping's roles and scopes.
func CheckGroupRoles(m []GroupRole) error {
	for _, g := range m {
		if g.Group == "" {
			return fmt.Errorf("a group mapping names no group (role %s)", g.Role)
		}
		if _, err := ParseRole(string(g.Role)); err != nil {
			return fmt.Errorf("group %s: %w", g.Group, err)
		}
		if _, err := ParseScopes(g.Scopes); err != nil {
			return fmt.Errorf("group %s: %w", g.Group, err)
		}
	}
	return nil
}

// FromGroups gives the role and scopes of a person in groups: the
// highest role among the mapped groups, with the scopes of the groups
// that give it (one of them unscoped: none). ok is false when no group
// of theirs is mapped.
func FromGroups(m []GroupRole, groups []string) (role Role, scopes []string, ok bool) {
	best := -1
	unscoped := false
	for _, g := range m {
		if !slices.Contains(groups, g.Group) || g.Role.rank() < best {
			continue
		}
		if g.Role.rank() > best {
			best, scopes, unscoped = g.Role.rank(), nil, false
		}
		unscoped = unscoped || len(g.Scopes) == 0
		scopes = append(scopes, g.Scopes...)
	}
	if best < 0 {
		return "", nil, false
	}
	if unscoped {
		scopes = nil
	}
	slices.Sort(scopes)
	return Roles[best], slices.Compact(scopes), true
}
