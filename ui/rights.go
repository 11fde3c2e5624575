package ui

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// The dashboard shows only what the session's role and scopes allow; the
// API, which every action goes through, refuses the rest anyway.

// Can reports whether the session may use right (its role holds it and,
// for a scoped person, the right is about one system): pages show an
// action only then, as {{if .Session.Can "power"}}.
func (ss *session) Can(right access.Right) bool {
	return slices.Contains(ss.Caller.Rights, right)
}

// principal is the session's caller as package access checks it.
func (ss *session) principal() access.Principal {
	sc, _ := access.ParseScopes(ss.Caller.Scopes) // whoami's own output: they parse
	return access.Principal{Name: ss.Caller.Name, Token: ss.Caller.Token, Role: ss.Caller.Role, Scopes: sc}
}

// Scoped reports whether the session acts only on some systems.
func (ss *session) Scoped() bool { return len(ss.Caller.Scopes) > 0 }

// Who is how the header names the session: "alice · operator", or
// "admin token" and "read-only token" for the token files (whose names
// no user may take).
func (ss *session) Who() string { return who(ss.Caller) }

func who(c api.Caller) string {
	if c.Token == "" && (c.Name == api.FileAdmin.Name && c.Role == api.FileAdmin.Role || c.Name == api.FileViewer.Name && c.Role == api.FileViewer.Role) {
		return c.Name + " token"
	}
	return c.Name + " · " + string(c.Role)
}

// Where is the session's scopes as a person reads them: "site tokyo,
// profile web" ("" without scopes).
func (ss *session) Where() string {
	var out []string
	for _, s := range ss.principal().Scopes {
		out = append(out, s.Kind+" "+s.Value)
	}
	return strings.Join(out, ", ")
}

// siteOf is the site of the system at ip: its subnet's, as the registry
// finds it (registry.Snapshot.SiteOf), from the subnets the API lists.
func siteOf(ip string, subnets []registry.Subnet) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil && p.Contains(addr) {
			return s.Site
		}
	}
	return ""
}

// permitted is what of all the session may do to sys, at site: the
// actions whose right it holds, on a system in its scopes. why says what
// was left out, for the page's hint.
func (ss *session) permitted(all []action, sys registry.System, site string) (ok []action, why string) {
	p := ss.principal()
	for _, a := range all {
		err := p.CheckSystem(a.Right, sys.Name, site, sys.Profile)
		if err == nil {
			ok = append(ok, a)
		} else if why == "" {
			why = err.Error()
		}
	}
	return ok, why
}
