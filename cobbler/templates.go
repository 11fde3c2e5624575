package cobbler

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// templatePlan is one autoinstall file, read once for all its profiles.
type templatePlan struct {
	file     string // as Cobbler names it: "sample.ks"
	path     string // where it was read; "" if not found
	err      error  // why a file found was refused (it leaves its root, is a link...)
	tmpl     kickstart.Template
	features []string // Cheetah syntax it uses: not imported
	existing bool
	profiles []*profilePlan
}

// usedBy reports whether a profile of the import uses the template.
func (t *templatePlan) usedBy(p *planner) bool {
	return t.path != "" && len(t.features) == 0 &&
		slices.ContainsFunc(t.profiles, func(pp *profilePlan) bool { return !p.isBlocked(pp.label) })
}

// profileTemplate finds the profile's autoinstall file through its
// parents and imports it when it is plain text; else the profile is
// imported without a template (diskless), which Review says.
func (p *planner) profileTemplate(pp *profilePlan, chain []*Profile) {
	file := ""
	for _, c := range slices.Backward(chain) {
		if c.Autoinstall != Inherit {
			file = c.Autoinstall
			break
		}
		if c == chain[0] {
			p.out.Review = append(p.out.Review, fmt.Sprintf("%s: its autoinstall is Cobbler's default_autoinstall setting, which is not read: imported without a template (its systems boot the installer without one)", pp.label))
			return
		}
	}
	if file == "" {
		return
	}
	t := p.tmpls[file]
	if t == nil {
		t = p.readTemplate(file, pp)
		p.tmpls[file] = t
	}
	t.profiles = append(t.profiles, pp)
	switch {
	case t.err != nil:
		p.conflict([]string{pp.label}, "%s: template %s: %v", pp.label, file, t.err)
	case t.path == "":
		p.out.Review = append(p.out.Review, fmt.Sprintf("%s: template %s not found (looked in %s): imported without a template", pp.label, file, strings.Join(p.templateDirs(), ", ")))
	case len(t.features) > 0:
		p.out.Review = append(p.out.Review, fmt.Sprintf("%s: template %s needs review: uses Cheetah features (%s): imported without a template; rewrite it as a Go template and give it with provision profile edit %s --kickstart NAME", pp.label, file, strings.Join(t.features, ", "), pp.prof.Name))
	default:
		pp.prof.Kickstart = t.tmpl.Name
		if p.isBlocked("template " + t.tmpl.Name) {
			p.block(pp.label, "its template "+t.tmpl.Name+" is not imported")
		}
	}
}

// templateDirs are where autoinstall files are looked for: the templates
// directory next to the collections, then the Cobbler server's under Root.
func (p *planner) templateDirs() []string {
	var dirs []string
	if p.c.Base != "" {
		dirs = append(dirs, filepath.Join(p.c.Base, "templates"))
	}
	return append(dirs, p.hostPath("/var/lib/cobbler/templates"))
}

// readTemplate reads an autoinstall file: by absolute path, on the
// Cobbler server (under Root); else by name in each templates directory.
// Each read stays inside its root (Root, or the templates directory).
func (p *planner) readTemplate(file string, first *profilePlan) *templatePlan {
	t := &templatePlan{file: file}
	type place struct{ dir, name string }
	var candidates []place
	if filepath.IsAbs(file) {
		candidates = append(candidates, place{p.opts.Root, file})
	} else {
		for _, d := range p.templateDirs() {
			candidates = append(candidates, place{d, file})
		}
	}
	var text []byte
	for _, c := range candidates {
		b, err := p.files.readFile(c.dir, c.name)
		if refused(err) {
			t.err = fmt.Errorf("%s: %w", under(c.dir, c.name), err)
			return t
		}
		if err == nil {
			t.path, text = under(c.dir, c.name), b
			break
		}
	}
	if t.path == "" {
		return t
	}
	if t.features = CheetahFeatures(string(text)); len(t.features) > 0 {
		return t
	}
	name := strings.Trim(badNameChars.ReplaceAllString(strings.ReplaceAll(strings.TrimPrefix(file, "/"), "/", "-"), "-"), "-._")
	t.tmpl = kickstart.Template{Name: name, Kind: templateKind(first.distro.Breed, string(text)), Text: plainTemplate(string(text))}
	label := "template " + name
	switch old, ok := p.reg.templates[name]; {
	case len(text) > registry.MaxTemplateLen:
		p.conflict([]string{label}, "%s (%s) is %d bytes, over %d", label, t.path, len(text), registry.MaxTemplateLen)
	case kickstart.Check(t.tmpl) != nil:
		p.conflict([]string{label}, "%s (%s): %v", label, t.path, kickstart.Check(t.tmpl))
	case builtinTemplate(name):
		p.conflict([]string{label}, "%s (%s) would replace the built-in template of that name", label, t.path)
	case ok && old.Text == t.tmpl.Text && old.Kind == t.tmpl.Kind:
		t.existing = true
	case ok:
		p.conflict([]string{label}, "%s (%s) is already in the registry, with another text or kind", label, t.path)
	}
	return t
}
