package access

import (
	"fmt"
	"slices"
)

// Principal is who a request comes from.
type Principal struct {
	Name   string  `json:"name"`            // the user, or "admin"/"read-only" for the token files
	Token  string  `json:"token,omitempty"` // the label of the token used, if it has one
	Role   Role    `json:"role"`
	Scopes []Scope `json:"-"` // none: every system
}

// By is how history names the principal: "alice", or "alice/LABEL" with
// a labelled token.
func (p Principal) By() string {
	if p.Token == "" {
		return p.Name
	}
	return p.Name + "/" + p.Token
}

// who names the principal in a refusal: "alice (operator)".
func (p Principal) who() string { return fmt.Sprintf("%s (%s)", p.Name, p.Role) }

// Can says whether p holds right: nil, or an error saying why not.
func (p Principal) Can(right Right) error {
	if !p.Role.Has(right) {
		return &Denied{fmt.Sprintf("%s may not %s (the %s right): that takes the %s role", p.who(), right.doing(), right, lowest(right))}
	}
	if len(p.Scopes) > 0 && !right.Scoped() {
		return p.NotOneSystem(string(right))
	}
	return nil
}

// NotOneSystem is the refusal of what, which is not about one system,
// to a scoped p.
func (p Principal) NotOneSystem(what string) error {
	return &Denied{fmt.Sprintf("%s is limited to systems of %s: %s is not about one system", p.who(), scopeText(p.Scopes), what)}
}

// CheckSystem says whether p may use right on the system name of site
// and profile ("" when it has none).
func (p Principal) CheckSystem(right Right, name, site, profile string) error {
	if err := p.Can(right); err != nil {
		return err
	}
	if p.InScope(site, profile) {
		return nil
	}
	return &Denied{fmt.Sprintf("%s may %s systems of %s only: %s is of %s", p.who(), right.onSystems(), scopeText(p.Scopes), name, placeText(site, profile))}
}

// InScope reports whether a system of site and profile is in one of p's
// scopes (every system is, without scopes).
func (p Principal) InScope(site, profile string) bool {
	return len(p.Scopes) == 0 || slices.ContainsFunc(p.Scopes, func(s Scope) bool { return s.matches(site, profile) })
}

func placeText(site, profile string) string {
	if site == "" {
		site = "(none)"
	}
	if profile == "" {
		profile = "(none)"
	}
	return "site " + site + ", profile " + profile
}

// Denied is a refusal: the API answers it 403.
type Denied struct{ Msg string }

func (e *Denied) Error() string { return e.Msg }
