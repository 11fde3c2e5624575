package registry

import (
	"slices"

	"github.com/provision/provision/access"
	"github.com/provision/provision/internal/textsafe"
)

// putUser validates u and stores it in place of prev ("" or u.Name).
// checkPlaces: a site scope needs a subnet of the site and a profile
// scope the profile (a directory login's scopes come from the group
// mapping and are only parsed: a place to come matches no system).
func (s *Snapshot) putUser(prev string, u User, checkPlaces bool) (*User, error) {
	if err := CheckObjectName(ObjUser, u.Name); err != nil {
		return nil, err
	}
	if slices.Contains(reservedUsers, u.Name) {
		return nil, invalidf("user %s: the name is reserved (history uses it for the token files, installers and the appliance)", u.Name)
	}
	if _, err := access.ParseRole(u.Role); err != nil {
		return nil, invalidf("user %s: %v", u.Name, err)
	}
	if u.Source != SourceHand && u.Source != SourceLDAP {
		return nil, invalidf("user %s: source %q: not %q or %q", u.Name, u.Source, SourceHand, SourceLDAP)
	}
	scopes, err := s.checkScopes(u.Scopes, checkPlaces)
	if err != nil {
		return nil, invalidf("user %s: %v", u.Name, err)
	}
	if err := s.checkNew(ObjUser, prev, u.Name, s.users[u.Name] != nil); err != nil {
		return nil, err
	}
	u.Scopes, u.FullName = scopes, textsafe.Strip(u.FullName)
	s.users[u.Name] = &u
	return &u, nil
}

// checkScopes parses scopes and gives them written the one way, sorted,
// without duplicates.
func (s *Snapshot) checkScopes(scopes []string, checkPlaces bool) ([]string, error) {
	var out []string
	for _, raw := range scopes {
		sc, err := access.ParseScope(raw)
		if err != nil {
			return nil, err
		}
		if checkPlaces {
			if err := s.checkPlace(sc); err != nil {
				return nil, invalidf("scope %s: %v", sc, err)
			}
		}
		out = append(out, sc.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkPlace says whether the site or profile of a scope exists.
func (s *Snapshot) checkPlace(sc access.Scope) error {
	if sc.Kind == access.ScopeProfile {
		if s.profiles[sc.Value] == nil {
			return notFound(ObjProfile, sc.Value)
		}
		return nil
	}
	for _, e := range s.subnets {
		if e.Site == sc.Value {
			return nil
		}
	}
	return invalidf("no subnet has site %s", sc.Value)
}
