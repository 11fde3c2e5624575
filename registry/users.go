package registry

import (
	"context"
	"maps"
	"slices"

	"github.com/provision/provision/access"
)

// ObjUser is a person who may use the API and the dashboard.
const ObjUser = "user"

// reservedUsers are names history already uses for others: the two
// token files, the installers and the appliance itself.
var reservedUsers = []string{"admin", "read-only", "installer", "appliance"}

// User sources.
const (
	SourceHand = ""     // made by hand (CLI, API, dashboard, import)
	SourceLDAP = "ldap" // made and kept up to date by directory login
)

// User is a person who may use the API and the dashboard.
type User struct {
	Name string `json:"name" yaml:"name"`
	Role string `json:"role" yaml:"role"` // access.ParseRole
	// Scopes limit the user's rights on systems ("site=S", "profile=P"):
	// sorted, no duplicates; none: every system.
	Scopes   []string `json:"scopes,omitempty" yaml:"scopes,omitempty"`
	FullName string   `json:"full_name,omitempty" yaml:"full_name,omitempty"` // control characters stripped
	// Source is SourceHand or SourceLDAP.
	Source string `json:"source,omitempty" yaml:"source,omitempty"`
}

// Principal is the user as the one a request comes from, with the label
// of the token it carried ("" for none).
func (u *User) Principal(label string) access.Principal {
	sc, _ := access.ParseScopes(u.Scopes) // checked when the user was written
	return access.Principal{Name: u.Name, Token: label, Role: access.Role(u.Role), Scopes: sc}
}

// Users lists the users by name.
func (s *Snapshot) Users() []*User {
	out := make([]*User, 0, len(s.users))
	for _, k := range slices.Sorted(maps.Keys(s.users)) {
		out = append(out, s.users[k])
	}
	return out
}

// User finds a user by name.
func (s *Snapshot) User(name string) (*User, bool) { u, ok := s.users[name]; return u, ok }

// AddUser stores a new user.
func (r *Registry) AddUser(ctx context.Context, u User) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		out, err := n.putUser("", u, true)
		if err != nil {
			return nil, err
		}
		return []Op{op(ObjUser, "", nil, out, out.Name, "add")}, nil
	})
	return err
}

// EditUser replaces user name (not renamed: u.Name is name or ""). A
// user keeps its source when u gives none.
func (r *Registry) EditUser(ctx context.Context, name string, u User) error {
	if u.Name != "" && u.Name != name {
		return invalidf("user %s: a user is not renamed (remove it and add %s)", name, u.Name)
	}
	u.Name = name
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.users[name]
		if !ok {
			return nil, notFound(ObjUser, name)
		}
		if u.Source == "" {
			u.Source = old.Source
		}
		out, err := n.putUser(name, u, true)
		if err != nil {
			return nil, err
		}
		return []Op{op(ObjUser, name, old, out, name, "edit")}, nil
	})
	return err
}

// RemoveUser removes a user with its tokens, in one change.
func (r *Registry) RemoveUser(ctx context.Context, name string) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.users[name]
		if !ok {
			return nil, notFound(ObjUser, name)
		}
		ops := n.dropTokens(name, func(*Token) bool { return true })
		delete(n.users, name)
		return append(ops, op(ObjUser, name, old, nil, "", "remove")), nil
	})
	return err
}

// PutDirectoryUser makes or updates a user from a directory login: no
// write when nothing changed; a user made by hand of the same name is
// not taken over.
func (r *Registry) PutDirectoryUser(ctx context.Context, u User) error {
	u.Source = SourceLDAP
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, had := n.users[u.Name]
		if had && old.Source != SourceLDAP {
			return nil, conflictf("user %s was made by hand: the directory does not take it over (remove it, or sign in as someone else)", u.Name)
		}
		out, err := n.putUser(prevIf(had, u.Name), u, false)
		if err != nil {
			return nil, err
		}
		if had && sameUser(old, out) {
			n.users[u.Name] = old // no change: nothing to write
			return nil, nil
		}
		return []Op{op(ObjUser, prevIf(had, u.Name), old, out, out.Name, verb(prevIf(had, u.Name), out.Name))}, nil
	})
	return err
}

func sameUser(a, b *User) bool {
	return a.Name == b.Name && a.Role == b.Role && slices.Equal(a.Scopes, b.Scopes) && a.FullName == b.FullName && a.Source == b.Source
}
