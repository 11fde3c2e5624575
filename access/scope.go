package access

import (
	"fmt"
	"strings"
)

// The kinds of scope.
const (
	ScopeSite    = "site"
	ScopeProfile = "profile"
)

// Scope narrows a person's rights on systems to those of a site (the
// site of the system's subnet) or of a profile.
type Scope struct {
	Kind  string // ScopeSite or ScopeProfile
	Value string
}

// String is the scope as written: "site=tokyo".
func (s Scope) String() string { return s.Kind + "=" + s.Value }

// ParseScope reads "site=S" or "profile=P".
func ParseScope(s string) (Scope, error) {
	kind, value, ok := strings.Cut(s, "=")
	if !ok || value == "" || (kind != ScopeSite && kind != ScopeProfile) {
		return Scope{}, fmt.Errorf("scope %q: write site=SITE or profile=PROFILE", s)
	}
	return Scope{kind, value}, nil
}

// ParseScopes reads a list of scopes.
func ParseScopes(ss []string) ([]Scope, error) {
	out := make([]Scope, 0, len(ss))
	for _, s := range ss {
		sc, err := ParseScope(s)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// matches reports whether a system of site and profile is in the scope.
func (s Scope) matches(site, profile string) bool {
	if s.Kind == ScopeSite {
		return site == s.Value
	}
	return profile == s.Value
}

// scopeText lists scopes for a message: "site tokyo or profile web".
func scopeText(ss []Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Kind + " " + s.Value
	}
	return strings.Join(parts, " or ")
}
