package registry

import "slices"

func (s *Snapshot) putProfile(prev string, p Profile) (*Profile, error) {
	if err := CheckObjectName(ObjProfile, p.Name); err != nil {
		return nil, err
	}
	if _, ok := s.images[p.Image]; !ok {
		return nil, invalidf("profile %s: image %q does not exist", p.Name, p.Image)
	}
	if p.Loader != "" && p.Loader != "ipxe" && p.Loader != "pxelinux" {
		return nil, invalidf("profile %s: loader %q must be ipxe or pxelinux", p.Name, p.Loader)
	}
	if p.Kickstart != "" {
		if err := CheckObjectName("kickstart template", p.Kickstart); err != nil {
			return nil, err
		}
	}
	settings, err := canonicalSettings(p.Settings)
	if err != nil {
		return nil, invalidf("profile %s: %v", p.Name, err)
	}
	p.Settings = settings
	if err := s.checkNew(ObjProfile, prev, p.Name, s.profiles[p.Name] != nil); err != nil {
		return nil, err
	}
	if prev != "" && prev != p.Name {
		if users := s.profileUsers(prev); len(users) > 0 {
			return nil, inUse(ObjProfile, prev, "system", users)
		}
	}
	delete(s.profiles, prev)
	s.profiles[p.Name] = &p
	return &p, nil
}

func (s *Snapshot) deleteProfile(name string) (*Profile, error) {
	p, ok := s.profiles[name]
	if !ok {
		return nil, notFound(ObjProfile, name)
	}
	if users := s.profileUsers(name); len(users) > 0 {
		return nil, inUse(ObjProfile, name, "system", users)
	}
	delete(s.profiles, name)
	return p, nil
}

func (s *Snapshot) profileUsers(name string) []string {
	var users []string
	for _, sys := range s.systems {
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
	return &Setting{Key: k, Value: v}, nil
}
