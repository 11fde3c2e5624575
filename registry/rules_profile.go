package registry

import (
	"cmp"
	"slices"
	"time"

	"github.com/provision/provision/kickstart"
)

func (s *Snapshot) putProfile(prev string, p Profile) (*Profile, error) {
	if err := CheckObjectName(ObjProfile, p.Name); err != nil {
		return nil, err
	}
	if _, ok := s.images[p.Image]; !ok {
		return nil, invalidf("profile %s: image %q does not exist", p.Name, p.Image)
	}
	if p.Loader != "" && p.Loader != LoaderIPXE && p.Loader != LoaderPXELinux && p.Loader != LoaderGRUB {
		return nil, invalidf("profile %s: loader %q must be ipxe, pxelinux or grub", p.Name, p.Loader)
	}
	if p.SecureBoot && p.Loader != LoaderGRUB {
		return nil, invalidf("profile %s: secure boot needs loader grub (shim, then Debian's signed GRUB), not %q", p.Name, cmp.Or(p.Loader, LoaderIPXE))
	}
	img := s.images[p.Image]
	if bootsBootenv(img.Kind) && !bootsDiskless(p.Loader) {
		return nil, invalidf("profile %s: loader %s cannot boot %s image %s: %s", p.Name, p.Loader, img.Kind, p.Image, disklessNeedsIPXE)
	}
	if img.Kind == KindDisk && p.Kickstart == "" {
		p.Kickstart = DeployTemplate // a disk image is deployed: that is its build
	}
	if err := s.checkStorage(&p); err != nil {
		return nil, err
	}
	if err := checkArgsOf(ObjProfile, p.Name, p.KernelArgs); err != nil {
		return nil, err
	}
	if err := s.checkProfileInstall(&p); err != nil {
		return nil, err
	}
	settings, err := canonicalSettings(p.Settings)
	if err != nil {
		return nil, invalidf("profile %s: %v", p.Name, err)
	}
	p.Settings = settings
	if p.SecretSettings, err = mergeSecrets("profile "+p.Name, p.Settings, p.SecretSettings, secretsOf(s.profiles[prev])); err != nil {
		return nil, err
	}
	if err := s.checkNew(ObjProfile, prev, p.Name, s.profiles[p.Name] != nil); err != nil {
		return nil, err
	}
	if prev != "" && prev != p.Name {
		if users := s.profileUsers(prev); len(users) > 0 {
			return nil, inUse(ObjProfile, prev, "system", users)
		}
		if users := s.ruleUsers(ObjProfile, prev); len(users) > 0 {
			return nil, inUse(ObjProfile, prev, ObjRule, users)
		}
	}
	delete(s.profiles, prev)
	s.profiles[p.Name] = &p
	for _, sys := range s.Systems() {
		if sys.Profile == p.Name {
			if err := s.checkArgsLength(sys, ObjProfile); err != nil {
				return nil, err
			}
			if err := s.checkRender(sys); err != nil {
				return nil, err
			}
		}
	}
	return &p, nil
}

// disklessNeedsIPXE says why a diskless or disk image needs loader ipxe:
// its boot environment is only ever booted, and tested, through iPXE.
const disklessNeedsIPXE = "its boot environment boots with loader ipxe only"

// DeployTemplate is the built-in template (of kind deploy) that a profile
// of a disk image deploys it with when it names none.
const DeployTemplate = "deploy"

// bootsBootenv reports whether images of kind boot the appliance's boot
// environment built from their kernel package: diskless and disk images.
func bootsBootenv(kind string) bool { return kind == KindDiskless || kind == KindDisk }

// bootsDiskless reports whether a profile's loader boots diskless images.
func bootsDiskless(loader string) bool { return loader == "" || loader == LoaderIPXE }

// checkImageLoaders refuses a diskless image that a profile boots with a
// loader that cannot boot it: the other direction of putProfile's rule,
// for an image edited (or imported) into a diskless one.
func (s *Snapshot) checkImageLoaders(image string) error {
	img := s.images[image]
	if img == nil {
		return nil
	}
	for _, p := range s.Profiles() {
		if p.Image != image {
			continue
		}
		if bootsBootenv(img.Kind) && !bootsDiskless(p.Loader) {
			return invalidf("image %s: %s, but profile %s boots it with loader %s: %s", image, img.Kind, p.Name, p.Loader, disklessNeedsIPXE)
		}
		if err := s.checkTemplateFits(p, img); err != nil {
			return invalidf("image %s: %v", image, err)
		}
	}
	return nil
}

// checkTemplateFits refuses a profile whose template's kind does not go
// with its image's: a disk image is deployed by a template of kind
// deploy, which deploys nothing else.
func (s *Snapshot) checkTemplateFits(p *Profile, img *Image) error {
	if p.Kickstart == "" || img == nil {
		return nil
	}
	t, ok := s.tset.Lookup(p.Kickstart)
	if !ok {
		return nil // checkProfileInstall names it
	}
	switch {
	case img.Kind == KindDisk && t.Kind != kickstart.KindDeploy:
		return invalidf("profile %s: image %s is a disk image, deployed by a template of kind deploy (such as %s), not %s of kind %s",
			p.Name, img.Name, DeployTemplate, t.Name, t.Kind)
	case img.Kind != KindDisk && t.Kind == kickstart.KindDeploy:
		return invalidf("profile %s: template %s deploys disk images, and image %s is %s", p.Name, t.Name, img.Name, img.Kind)
	}
	return nil
}

// checkArgsLength refuses a system whose kernel arguments and its
// profile's are over MaxCmdline together, naming the object (kind) the
// change is about. Arguments that are refused on their own are left to
// their object's rule.
func (s *Snapshot) checkArgsLength(sys *System, kind string) error {
	b, err := s.appendOperatorArgs(nil, 0, sys)
	if err != nil || len(b) <= MaxCmdline {
		return nil
	}
	if kind == ObjProfile {
		return invalidf("profile %s: kernel args are %d bytes with those of system %s, Linux takes %d", sys.Profile, len(b), sys.Name, MaxCmdline)
	}
	return invalidf("system %s: kernel args are %d bytes with those of profile %s, Linux takes %d", sys.Name, len(b), sys.Profile, MaxCmdline)
}

// checkProfileInstall checks the profile's template and install timeout.
func (s *Snapshot) checkProfileInstall(p *Profile) error {
	if p.Kickstart != "" {
		t, ok := s.tset.Lookup(p.Kickstart)
		if !ok {
			return invalidf("profile %s: template %q does not exist", p.Name, p.Kickstart)
		}
		if t.Kind == kickstart.KindSnippet {
			return invalidf("profile %s: template %s is a snippet, only included by other templates", p.Name, p.Kickstart)
		}
		if err := s.checkTemplateFits(p, s.images[p.Image]); err != nil {
			return err
		}
	}
	if p.OnFailure != "" && p.OnFailure != "off" && p.OnFailure != "keep" {
		return invalidf("profile %s: on failure %q must be off or keep", p.Name, p.OnFailure)
	}
	if p.InstallTimeout == "" {
		return nil
	}
	d, err := time.ParseDuration(p.InstallTimeout)
	if err != nil || d < time.Second || d > 7*24*time.Hour {
		return invalidf("profile %s: install timeout %q must be a duration from 1s to 168h", p.Name, p.InstallTimeout)
	}
	p.InstallTimeout = d.String()
	return nil
}

// followProfile moves the systems of profile name to the state their
// profile now implies, when it gained or lost its template.
func (s *Snapshot) followProfile(name string, now time.Time) []Op {
	var ops []Op
	for _, sys := range s.Systems() {
		if sys.Profile != name {
			continue
		}
		next := sys.Clone()
		s.lifeOf(sys, &next, false, now)
		if next.Status != sys.Status {
			s.replaceSystem(sys, &next)
			ops = append(ops, stateOp(sys, &next, CauseProfile, "profile "+name))
		}
	}
	return ops
}

func (s *Snapshot) deleteProfile(name string) (*Profile, error) {
	p, ok := s.profiles[name]
	if !ok {
		return nil, notFound(ObjProfile, name)
	}
	if users := s.profileUsers(name); len(users) > 0 {
		return nil, inUse(ObjProfile, name, "system", users)
	}
	if users := s.ruleUsers(ObjProfile, name); len(users) > 0 {
		return nil, inUse(ObjProfile, name, ObjRule, users)
	}
	delete(s.profiles, name)
	return p, nil
}

func (s *Snapshot) profileUsers(name string) []string {
	var users []string
	for sys := range s.systems.Values() {
		if sys.Profile == name {
			users = append(users, sys.Name)
		}
	}
	slices.Sort(users)
	return users
}

func (s *Snapshot) setSetting(key, value string) (*Setting, error) {
	k, err := CheckSettingKey(key)
	if err != nil {
		return nil, err
	}
	if err := CheckSettingValue(k, value); err != nil {
		return nil, err
	}
	if err := s.checkDiscoverySetting(k, value); err != nil {
		return nil, err
	}
	s.settings[k] = value
	return &Setting{Key: k, Value: value}, nil
}

func (s *Snapshot) unsetSetting(key string) (*Setting, error) {
	k, err := CheckSettingKey(key)
	if err != nil {
		return nil, err
	}
	v, ok := s.settings[k]
	if !ok {
		return nil, notFound(ObjSetting, k)
	}
	delete(s.settings, k)
	// Templates see global settings too: one may need this one. (A set
	// only adds or changes a value, which no template can fail on.)
	for _, sys := range s.Systems() {
		if _, own := s.EffectiveSettings(sys)[k]; !own {
			if err := s.checkRender(sys); err != nil {
				return nil, err
			}
		}
	}
	return &Setting{Key: k, Value: v}, nil
}

// SystemsOf lists the names of the systems of a profile, sorted.
func (s *Snapshot) SystemsOf(profile string) []string { return s.profileUsers(profile) }
