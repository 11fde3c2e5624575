package cobbler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/provision/provision/registry"
)

// profilePlan is the profile a Cobbler profile becomes.
type profilePlan struct {
	label       string
	src         *Profile
	distro      *Distro
	prof        registry.Profile
	nameServers []string // resolved through the parents
	existing    bool
}

// installs reports whether the profile has an install template.
func (pp *profilePlan) installs() bool { return pp.prof.Kickstart != "" }

// planProfiles resolves each profile's parent chain to its distro's image,
// blends its kernel options and settings, and imports its template.
func (p *planner) planProfiles() {
	for i := range p.c.Profiles {
		src := &p.c.Profiles[i]
		pp := &profilePlan{label: src.label(), src: src}
		name, ok := p.objectName(registry.ObjProfile, src.Name, src.label())
		if !ok {
			continue
		}
		p.profs[src.Name] = pp
		chain, distro, err := p.chain(src)
		if err != nil {
			p.conflict([]string{src.label()}, "%s: %v", src.label(), err)
			continue
		}
		pp.distro = distro
		img := p.images[distro.Name]
		if img == nil || p.isBlocked(distro.label()) {
			p.block(src.label(), "its distro "+distro.Name+" is not imported")
			continue
		}
		pp.prof = registry.Profile{Name: name, Image: img.img.Name}
		p.profileArgs(pp, chain)
		p.profileSettings(pp, chain)
		p.profileTemplate(pp, chain)
		if pp.installs() {
			// Cobbler never powers a machine off when its install fails.
			pp.prof.OnFailure = "keep"
		}
		p.checkExistingProfile(pp)
	}
}

// chain returns the profile's ancestry, root first, and its distro.
func (p *planner) chain(pr *Profile) ([]*Profile, *Distro, error) {
	var chain []*Profile
	seen := map[string]bool{}
	for cur := pr; ; {
		if seen[cur.Name] {
			names := []string{}
			for _, c := range slices.Backward(chain) {
				names = append(names, c.Name)
			}
			return nil, nil, fmt.Errorf("its parents loop: %s", strings.Join(append(names, cur.Name), " → "))
		}
		seen[cur.Name] = true
		chain = append([]*Profile{cur}, chain...)
		if !unset(cur.Parent) {
			next, ok := p.profiles[cur.Parent]
			if !ok {
				return nil, nil, fmt.Errorf("parent profile %s does not exist", cur.Parent)
			}
			cur = next
			continue
		}
		d, ok := p.distros[cur.Distro]
		if !ok {
			if unset(cur.Distro) {
				return nil, nil, fmt.Errorf("has neither a distro nor a parent")
			}
			return nil, nil, fmt.Errorf("distro %s does not exist", cur.Distro)
		}
		return chain, d, nil
	}
}

// profileArgs blends the distro's kernel options and the chain's, as
// Cobbler does, into the profile's kernel arguments.
func (p *planner) profileArgs(pp *profilePlan, chain []*Profile) {
	opts := pp.distro.KernelOptions
	for _, c := range chain {
		opts = blend(opts, c.KernelOptions)
	}
	args, lost := opts.render()
	pp.prof.KernelArgs = args
	for _, l := range lost {
		p.lost("%s: %s", pp.label, l)
	}
}

// profileSettings makes the blended autoinstall_meta the profile's
// settings, but for what settings cannot hold: settings are published in
// DNS, so a secret stays out.
func (p *planner) profileSettings(pp *profilePlan, chain []*Profile) {
	meta := maps.Clone(pp.distro.AutoinstallMeta)
	if meta == nil {
		meta = map[string]string{}
	}
	for _, c := range chain {
		maps.Copy(meta, c.AutoinstallMeta)
		if c.NameServers != nil {
			pp.nameServers = c.NameServers
		}
	}
	pp.prof.Settings = p.settings(pp.label, meta)
}

// settings turns autoinstall_meta into settings, reporting what it leaves
// out.
func (p *planner) settings(label string, meta map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		v := meta[k]
		key, err := registry.CheckSettingKey(k)
		switch {
		case err != nil:
			p.lost("%s: autoinstall_meta %s (%v)", label, k, err)
		case strings.Contains(v, "@@"):
			p.lost("%s: autoinstall_meta %s=%s (a Cobbler @@variable@@)", label, k, v)
		case registry.SecretLike(key) != "":
			p.lost("%s: autoinstall_meta %s (it looks like a secret, and settings are published in DNS: set it with provision setting set ... --public if it is not one)", label, k)
		case registry.CheckSettingValue(key, v) != nil:
			p.lost("%s: autoinstall_meta %s (%d bytes, over %d)", label, k, len(v), registry.MaxValueLen)
		default:
			out[key] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// checkExistingProfile: a registry profile of the name is the same one, or
// a conflict.
func (p *planner) checkExistingProfile(pp *profilePlan) {
	old, ok := p.reg.profiles[pp.prof.Name]
	if !ok {
		return
	}
	var diff []string
	if old.Image != pp.prof.Image {
		diff = append(diff, "image "+old.Image)
	}
	if old.KernelArgs != pp.prof.KernelArgs {
		diff = append(diff, fmt.Sprintf("kernel args %q", old.KernelArgs))
	}
	if old.Kickstart != pp.prof.Kickstart {
		diff = append(diff, "template "+or(old.Kickstart, "none"))
	}
	if !maps.Equal(old.Settings, pp.prof.Settings) {
		diff = append(diff, "other settings")
	}
	if len(diff) == 0 {
		pp.existing = true
		return
	}
	p.conflict([]string{pp.label}, "profile %s (from %s) is already in the registry, with %s", pp.prof.Name, pp.label, strings.Join(diff, ", "))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
