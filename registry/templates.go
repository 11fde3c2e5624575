package registry

import (
	"context"
	"maps"
	"slices"

	"github.com/provision/provision/kickstart"
)

// ObjTemplate is an install template (kickstart, preseed, autoinstall,
// script or snippet). Built-in templates are not stored; a stored
// template of the same name replaces one.
const ObjTemplate = "template"

// MaxTemplateLen is the largest template text, in bytes.
const MaxTemplateLen = 256 << 10

// TemplateInfo is a template as listed: its kind, whether it is built in,
// and whether a user template replaces the built-in of that name.
type TemplateInfo struct {
	kickstart.Template
	Builtin    bool `json:"builtin"`
	Overridden bool `json:"overridden,omitempty"` // a built-in replaced by a user template
}

// Templates returns the parsed set of every effective template: built-ins
// and user templates, the user's winning. It is shared and read-only.
func (s *Snapshot) Templates() *kickstart.Set { return s.tset }

// TemplateList lists every template by name.
func (s *Snapshot) TemplateList() []TemplateInfo {
	builtin := map[string]bool{}
	for _, t := range kickstart.Builtins() {
		builtin[t.Name] = true
	}
	var out []TemplateInfo
	for _, name := range s.tset.Names() {
		t, _ := s.tset.Lookup(name)
		_, user := s.templates[name]
		out = append(out, TemplateInfo{Template: t, Builtin: builtin[name] && !user, Overridden: builtin[name] && user})
	}
	return out
}

// AddTemplate stores a user template (it may replace a built-in's name).
func (r *Registry) AddTemplate(ctx context.Context, t kickstart.Template) (*kickstart.Template, error) {
	return r.putTemplate(ctx, false, t)
}

// EditTemplate replaces the user template or built-in t.Name.
func (r *Registry) EditTemplate(ctx context.Context, t kickstart.Template) (*kickstart.Template, error) {
	return r.putTemplate(ctx, true, t)
}

func (r *Registry) putTemplate(ctx context.Context, edit bool, t kickstart.Template) (*kickstart.Template, error) {
	var out *kickstart.Template
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, had := n.templates[t.Name]
		if _, exists := n.tset.Lookup(t.Name); edit && !exists {
			return nil, notFound(ObjTemplate, t.Name)
		} else if !edit && had {
			return nil, conflictf("template %s already exists", t.Name)
		}
		var err error
		if out, err = n.putTemplate(t); err != nil {
			return nil, err
		}
		prev, verb := "", "add"
		if had {
			prev, verb = t.Name, "edit"
		}
		return []Op{op(ObjTemplate, prev, old, out, t.Name, verb)}, nil
	})
	return out, err
}

// RemoveTemplate removes a user template that no profile uses and no
// other template includes; removing one that replaces a built-in brings
// the built-in back.
func (r *Registry) RemoveTemplate(ctx context.Context, name string) error {
	return r.remove(ctx, ObjTemplate, name, func(n *Snapshot) (any, error) { return n.deleteTemplate(name) })
}

func (s *Snapshot) putTemplate(t kickstart.Template) (*kickstart.Template, error) {
	if len(t.Text) > MaxTemplateLen {
		return nil, invalidf("template %s: %d bytes, the limit is %d", t.Name, len(t.Text), MaxTemplateLen)
	}
	if err := kickstart.Check(t); err != nil {
		return nil, invalidf("%v", err)
	}
	if t.Kind == kickstart.KindSnippet {
		if users := s.templateUsers(t.Name); len(users) > 0 {
			return nil, invalidf("template %s: a snippet cannot be installed from, and profile %s uses it", t.Name, users[0])
		}
	}
	next := maps.Clone(s.templates)
	next[t.Name] = &t
	if err := s.setTemplates(next); err != nil {
		return nil, err
	}
	for _, name := range s.tset.Names() {
		if s.uses(name, t.Name) {
			if err := s.vet(name); err != nil {
				return nil, err
			}
		}
	}
	return &t, s.checkRenders(s.templateSystems(t.Name))
}

func (s *Snapshot) deleteTemplate(name string) (*kickstart.Template, error) {
	t, ok := s.templates[name]
	if !ok {
		if _, builtin := s.tset.Lookup(name); builtin {
			return nil, invalidf("template %s is built in: it cannot be removed (a user template of that name replaces it)", name)
		}
		return nil, notFound(ObjTemplate, name)
	}
	next := maps.Clone(s.templates)
	delete(next, name)
	set, err := newTemplateSet(next)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	_, builtin := set.Lookup(name)
	if !builtin {
		if users := s.templateUsers(name); len(users) > 0 {
			return nil, inUse(ObjTemplate, name, "profile", users)
		}
		if inc := s.includers(name); len(inc) > 0 {
			return nil, inUse(ObjTemplate, name, "template", inc)
		}
	}
	s.templates, s.tset = next, set
	if builtin { // the built-in is back: it must still render
		return t, s.checkRenders(s.templateSystems(name))
	}
	return t, nil
}

// setTemplates installs a new set of user templates and reparses the set.
func (s *Snapshot) setTemplates(user map[string]*kickstart.Template) error {
	set, err := newTemplateSet(user)
	if err != nil {
		return invalidf("%v", err)
	}
	s.templates, s.tset = user, set
	return nil
}

func newTemplateSet(user map[string]*kickstart.Template) (*kickstart.Set, error) {
	list := make([]kickstart.Template, 0, len(user))
	for _, name := range slices.Sorted(maps.Keys(user)) {
		list = append(list, *user[name])
	}
	return kickstart.NewSet(kickstart.Builtins(), list)
}

// templateUsers lists the profiles that install from template name.
func (s *Snapshot) templateUsers(name string) []string {
	var users []string
	for _, p := range s.profiles {
		if p.Kickstart == name {
			users = append(users, p.Name)
		}
	}
	slices.Sort(users)
	return users
}

// includers lists the templates that include name directly.
func (s *Snapshot) includers(name string) []string {
	var out []string
	for _, n := range s.tset.Names() {
		if slices.Contains(s.tset.Includes(n), name) {
			out = append(out, n)
		}
	}
	return out
}

// uses reports whether template root is name or includes it, directly or
// through other templates.
func (s *Snapshot) uses(root, name string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(t string) bool {
		if t == name {
			return true
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		return slices.ContainsFunc(s.tset.Includes(t), walk)
	}
	return walk(root)
}

// templateSystems lists the systems whose install template is name or
// includes it.
func (s *Snapshot) templateSystems(name string) []*System {
	var out []*System
	for _, sys := range s.Systems() {
		if p := s.profiles[sys.Profile]; p != nil && p.Kickstart != "" && s.uses(p.Kickstart, name) {
			out = append(out, sys)
		}
	}
	return out
}

// checkRenders has the install template of each system rendered (with
// placeholder URLs): the change is refused at the first that fails, naming
// the system, the template and its line.
func (s *Snapshot) checkRenders(systems []*System) error {
	for _, sys := range systems {
		if err := s.checkRender(sys); err != nil {
			return err
		}
	}
	return nil
}

// checkRender has the install template of sys rendered: in a change, once
// the change is validated and outside the writers' lock (runChecks); on a
// Snapshot outside a change, at once.
func (s *Snapshot) checkRender(sys *System) error {
	if s.pending != nil {
		s.pending.systems = append(s.pending.systems, sys.Name)
		return nil
	}
	return s.renderCheck(context.Background(), sys)
}

// vet has template name vetted (kickstart.Set.Vet), like checkRender.
func (s *Snapshot) vet(name string) error {
	if s.pending != nil {
		s.pending.vets = append(s.pending.vets, name)
		return nil
	}
	return s.vetCheck(context.Background(), name, nil)
}

// sampleURLs stand in for the appliance's URLs when a template is only
// checked.
var sampleURLs = func() kickstart.URLs {
	const base = "http://appliance.invalid"
	return kickstart.URLs{Server: base, Script: base + "/boot.ipxe", Image: base + "/images/image",
		Template: base + "/ks/TOKEN", Done: base + "/ks/TOKEN/done", Failed: base + "/ks/TOKEN/failed",
		Mirrors: kickstart.MirrorURLs(base, []string{"debian", "debian-security"})}
}()
