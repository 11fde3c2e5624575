package cobbler

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

// Options are how Plan finds Cobbler's files.
type Options struct {
	// Root prefixes the absolute paths Cobbler's objects name (kernels,
	// initrds, /var/lib/cobbler/templates): a copy of a Cobbler server's
	// tree. Empty, the paths are read as they are, on this machine.
	Root string
}

// ImportPlan is what an import of a Collection writes and what it leaves
// out.
type ImportPlan struct {
	// Doc is what is imported: every object that is in no conflict and
	// depends on none. POST it (as YAML) to /api/v1/import.
	Doc registry.Document
	// Uploads are the image files Doc's new images name, to put in the
	// appliance's store first.
	Uploads []Upload
	// Existing are the objects of Doc that the registry has already, as
	// planned (the import leaves them unchanged, or updates a system's
	// other fields).
	Existing []string
	// Conflicts are every problem found; each names its objects. While
	// there is one, an import of all or nothing writes nothing.
	Conflicts []Conflict
	// Skipped are the objects left out of Doc, and why: in a conflict, or
	// depending on an object that is.
	Skipped []Skip
	// WithoutFiles are the images of Doc registered without files (their
	// distro's were not found), each with the `provision image edit` that
	// uploads them: their profiles and systems are imported, and a network
	// boot of them fails until then.
	WithoutFiles []string
	// Review are what an operator should look at: templates not carried
	// over, profiles imported without theirs.
	Review []string
	// Lost are the things of particular objects that are not carried over.
	Lost []string
	// Unsupported are the Gaps the data sets, with the objects that set them.
	Unsupported []Found
	// Renamed maps objects whose Cobbler name is not a valid provision name
	// to their new names ("system Web001.example.com": "web001").
	Renamed map[string]string
}

// Upload is one file of an image, to upload before the import.
type Upload struct {
	Image, Role, Path, SHA256 string
	Size                      int64
}

// Conflict is a problem that keeps its objects out of the import.
type Conflict struct {
	Objects []string // e.g. "system web013", "distro ubuntu22-x86_64"
	Msg     string   // e.g. "ip 10.10.0.23 is claimed by systems web013 and web014"
}

func (c Conflict) String() string { return c.Msg }

// Skip is an object left out of the import.
type Skip struct {
	Object, Why string
}

// planner holds the state of one Plan.
type planner struct {
	c        *Collection
	opts     Options
	reg      *index
	out      *ImportPlan
	distros  map[string]*Distro
	profiles map[string]*Profile
	images   map[string]*imagePlan   // by distro name
	profs    map[string]*profilePlan // by Cobbler profile name
	tmpls    map[string]*templatePlan
	systems  []*systemPlan
	subnets  []*subnetPlan
	blocked  map[string]string // object label: why it is left out
	names    map[string]string // provision object ("image x") to the Cobbler object that took it
	files    *files            // the files read, each inside its root
}

// Plan maps the Collection onto provision's objects, checking them against
// existing (the registry's export, nil for an empty registry). It reads the
// distros' kernels and initrds (to hash them) and the profiles' templates.
func Plan(c *Collection, existing *registry.Document, opts Options) (*ImportPlan, error) {
	if existing == nil {
		existing = &registry.Document{}
	}
	reg, err := newIndex(existing)
	if err != nil {
		return nil, err
	}
	p := &planner{c: c, opts: opts, reg: reg, out: &ImportPlan{Renamed: map[string]string{}},
		distros: map[string]*Distro{}, profiles: map[string]*Profile{},
		images: map[string]*imagePlan{}, profs: map[string]*profilePlan{}, tmpls: map[string]*templatePlan{},
		blocked: map[string]string{}, names: map[string]string{}, files: newFiles()}
	defer p.files.close()
	for i := range c.Distros {
		p.distros[c.Distros[i].Name] = &c.Distros[i]
	}
	for i := range c.Profiles {
		p.profiles[c.Profiles[i].Name] = &c.Profiles[i]
	}
	p.planImages()
	p.planProfiles()
	p.planSystems()
	p.checkSystems()
	p.planSubnets()
	p.finish()
	return p.out, nil
}

// conflict records a problem and keeps its objects out.
func (p *planner) conflict(objects []string, format string, a ...any) {
	p.out.Conflicts = append(p.out.Conflicts, Conflict{Objects: objects, Msg: fmt.Sprintf(format, a...)})
	for _, o := range objects {
		p.block(o, "in a conflict")
	}
}

func (p *planner) block(object, why string) {
	if _, ok := p.blocked[object]; !ok {
		p.blocked[object] = why
	}
}

func (p *planner) lost(format string, a ...any) {
	p.out.Lost = append(p.out.Lost, fmt.Sprintf(format, a...))
}

var badNameChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// objectName makes a Cobbler name a provision image, profile or template
// name, and claims it for the object label: two Cobbler objects becoming
// one name is a conflict.
func (p *planner) objectName(kind, cobblerName, label string) (string, bool) {
	name := strings.Trim(badNameChars.ReplaceAllString(cobblerName, "-"), "-._")
	if len(name) > 63 {
		name = name[:63]
	}
	if err := registry.CheckObjectName(kind, name); err != nil {
		p.conflict([]string{label}, "%s: %v", label, err)
		return "", false
	}
	if name != cobblerName {
		p.out.Renamed[label] = name
	}
	key := kind + " " + name
	if other, ok := p.names[key]; ok {
		p.conflict([]string{other, label}, "%s and %s would both be %s %s", other, label, kind, name)
		return "", false
	}
	p.names[key] = label
	return name, true
}

// finish builds the Doc from what is not blocked, in name order.
func (p *planner) finish() {
	d := &p.out.Doc
	for _, t := range sortedValues(p.tmpls) {
		if t.usedBy(p) {
			d.Templates = append(d.Templates, t.tmpl)
			p.existing(t.existing, "template "+t.tmpl.Name)
		}
	}
	for _, img := range sortedValues(p.images) {
		if !p.isBlocked(img.label) {
			d.Images = append(d.Images, img.img)
			p.existing(img.existing, "image "+img.img.Name)
			if !img.existing {
				p.out.Uploads = append(p.out.Uploads, img.uploads...)
			}
			if len(img.missing) > 0 {
				p.out.WithoutFiles = append(p.out.WithoutFiles, img.withoutFiles())
			}
		}
	}
	for _, pp := range sortedValues(p.profs) {
		if !p.isBlocked(pp.label) {
			d.Profiles = append(d.Profiles, pp.prof)
			p.existing(pp.existing, "profile "+pp.prof.Name)
		}
	}
	for _, sub := range p.subnets {
		if sub.users(p) > 0 {
			d.Subnets = append(d.Subnets, sub.sub)
		}
	}
	slices.SortFunc(d.Subnets, func(a, b registry.Subnet) int { return strings.Compare(a.Name, b.Name) })
	for _, sp := range p.systems {
		if !p.isBlocked(sp.label) {
			d.Systems = append(d.Systems, sp.sys)
			p.existing(sp.existing != nil, "system "+sp.sys.Name)
		}
	}
	slices.SortFunc(d.Systems, func(a, b registry.System) int { return strings.Compare(a.Name, b.Name) })
	p.skipped()
	p.out.Unsupported = unsupportedIn(p.c)
	slices.Sort(p.out.Review)
}

func (p *planner) existing(yes bool, label string) {
	if yes {
		p.out.Existing = append(p.out.Existing, label)
	}
}

func (p *planner) isBlocked(label string) bool { _, ok := p.blocked[label]; return ok }

// skipped lists the blocked objects: distros, profiles, then systems.
func (p *planner) skipped() {
	order := func(l string) int {
		return slices.IndexFunc([]string{"distro ", "template ", "profile ", "system "}, func(pre string) bool { return strings.HasPrefix(l, pre) })
	}
	labels := slices.SortedFunc(maps.Keys(p.blocked), func(a, b string) int {
		if oa, ob := order(a), order(b); oa != ob {
			return oa - ob
		}
		return naturalCompare(a, b)
	})
	for _, l := range labels {
		p.out.Skipped = append(p.out.Skipped, Skip{Object: l, Why: p.blocked[l]})
	}
}

func sortedValues[V any](m map[string]V) []V {
	var out []V
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// builtinTemplate reports whether name is a built-in template's, which a
// user template of that name would replace.
func builtinTemplate(name string) bool {
	return slices.ContainsFunc(kickstart.Builtins(), func(t kickstart.Template) bool { return t.Name == name })
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ConflictsError lists every conflict of the plan, one a line, with what
// the import did about them ("nothing was written").
func (p *ImportPlan) ConflictsError(what string) error {
	msgs := make([]string, len(p.Conflicts))
	for i, x := range p.Conflicts {
		msgs[i] = x.Msg
	}
	n := fmt.Sprintf("%d conflicts", len(msgs))
	if len(msgs) == 1 {
		n = "1 conflict"
	}
	return fmt.Errorf("%s, %s (--skip-conflicts imports the rest):\n  %s", n, what, strings.Join(msgs, "\n  "))
}
