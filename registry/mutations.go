package registry

import "context"

// AddSubnet creates a subnet.
func (r *Registry) AddSubnet(ctx context.Context, sub Subnet) (*Subnet, error) {
	var out *Subnet
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		var err error
		out, err = n.putSubnet("", sub)
		return []Op{op(ObjSubnet, "", nil, out, sub.Name, "add")}, err
	})
	return out, err
}

// EditSubnet replaces subnet name with sub (same name or a new one). Every
// system IP must stay inside a subnet and clear of the new reserved
// addresses (gateway, pool, network, broadcast).
func (r *Registry) EditSubnet(ctx context.Context, name string, sub Subnet) (*Subnet, error) {
	var out *Subnet
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.subnets[name]
		if !ok {
			return nil, notFound(ObjSubnet, name)
		}
		var err error
		if out, err = n.putSubnet(name, sub); err == nil {
			err = r.checkPoolLeases(old, n.subnets[out.Name])
		}
		return []Op{op(ObjSubnet, name, &old.Subnet, out, sub.Name, verb(name, sub.Name))}, err
	})
	return out, err
}

// RemoveSubnet removes a subnet no system IP lies in.
func (r *Registry) RemoveSubnet(ctx context.Context, name string) error {
	return r.remove(ctx, ObjSubnet, name, func(n *Snapshot) (any, error) { return n.deleteSubnet(name) })
}

// AddImage records an image whose files are already in the image store.
func (r *Registry) AddImage(ctx context.Context, img Image) (*Image, error) {
	var out *Image
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		var err error
		out, err = n.putImage("", img)
		return []Op{op(ObjImage, "", nil, out, img.Name, "add")}, err
	})
	return out, err
}

// EditImage replaces image name's files (the boot environment of a
// diskless image is rebuilt this way); an image cannot be renamed.
func (r *Registry) EditImage(ctx context.Context, name string, img Image) (*Image, error) {
	if img.Name != name {
		return nil, invalidf("image %s: an image cannot be renamed (to %q)", name, img.Name)
	}
	var out *Image
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, ok := n.images[name]
		if !ok {
			return nil, notFound(ObjImage, name)
		}
		prev := *old
		var err error
		if out, err = n.putImage(name, img); err == nil {
			err = n.checkImageLoaders(name)
		}
		return []Op{op(ObjImage, name, &prev, out, name, "edit")}, err
	})
	return out, err
}

// RemoveImage removes an image no profile uses.
func (r *Registry) RemoveImage(ctx context.Context, name string) error {
	return r.remove(ctx, ObjImage, name, func(n *Snapshot) (any, error) { return n.deleteImage(name) })
}

// AddProfile creates a profile.
func (r *Registry) AddProfile(ctx context.Context, p Profile) (*Profile, error) {
	return r.putProfile(ctx, "", p)
}

// EditProfile replaces profile name with p.
func (r *Registry) EditProfile(ctx context.Context, name string, p Profile) (*Profile, error) {
	return r.putProfile(ctx, name, p)
}

func (r *Registry) putProfile(ctx context.Context, prev string, p Profile) (*Profile, error) {
	var out *Profile
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old := n.profiles[prev]
		if err := checkPublic(ctx, "profile "+p.Name, settingsOf(old), p.Settings); err != nil {
			return nil, err
		}
		if prev != "" && old == nil {
			return nil, notFound(ObjProfile, prev)
		}
		var err error
		if out, err = n.putProfile(prev, p); err != nil {
			return nil, err
		}
		ops := []Op{op(ObjProfile, prev, old, out, p.Name, verb(prev, p.Name))}
		return append(ops, n.followProfile(out.Name, r.now())...), nil
	})
	return out, err
}

// RemoveProfile removes a profile no system uses.
func (r *Registry) RemoveProfile(ctx context.Context, name string) error {
	return r.remove(ctx, ObjProfile, name, func(n *Snapshot) (any, error) { return n.deleteProfile(name) })
}

// AddSystem creates a system.
func (r *Registry) AddSystem(ctx context.Context, s System) (*System, error) {
	return r.putSystem(ctx, "", s)
}

// EditSystem replaces system name with s; s.Name may differ (a rename).
// A BMC given without a password keeps the current password.
func (r *Registry) EditSystem(ctx context.Context, name string, s System) (*System, error) {
	return r.putSystem(ctx, name, s)
}

func (r *Registry) putSystem(ctx context.Context, prev string, s System) (*System, error) {
	var out *System
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old := n.systems.At(prev)
		var oldSettings map[string]string
		if old != nil {
			oldSettings = old.Settings
		}
		if err := checkPublic(ctx, "system "+s.Name, oldSettings, s.Settings); err != nil {
			return nil, err
		}
		var err error
		if out, err = n.putSystem(prev, s, false, r.now()); err == nil {
			err = r.checkSystemLeases(out)
		}
		return []Op{op(ObjSystem, prev, old, out, s.Name, verb(prev, s.Name))}, err
	})
	return out, err
}

// RemoveSystem removes a system.
func (r *Registry) RemoveSystem(ctx context.Context, name string) error {
	return r.remove(ctx, ObjSystem, name, func(n *Snapshot) (any, error) { return n.deleteSystem(name) })
}

// SetSetting sets a global setting.
func (r *Registry) SetSetting(ctx context.Context, key, value string) (*Setting, error) {
	var out *Setting
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		k, _ := CheckSettingKey(key)
		var old *Setting
		var had map[string]string
		prev := ""
		if v, ok := n.settings[k]; ok {
			old, prev, had = &Setting{Key: k, Value: v}, k, map[string]string{key: v}
		}
		if _, secret := n.secrets[k]; secret {
			return nil, invalidf("global: setting %s is a secret setting: a key is one or the other (unset it first to make it ordinary, and published)", k)
		}
		if err := checkPublic(ctx, "global", had, map[string]string{key: value}); err != nil {
			return nil, err
		}
		var err error
		out, err = n.setSetting(key, value)
		if err != nil {
			return nil, err
		}
		return []Op{op(ObjSetting, prev, old, out, out.Key, "set")}, nil
	})
	return out, err
}

// SetSecretSetting sets a global secret setting (see SecretSettings). An
// ordinary setting of that key is moved: unset in the same commit.
func (r *Registry) SetSecretSetting(ctx context.Context, key string, value Secret) (*SecretSetting, error) {
	var out *SecretSetting
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		if value == "" {
			return nil, invalidf("global: secret setting %s: the value is empty", key)
		}
		var ops []Op
		var err error
		out, ops, err = n.setSecretSetting(key, value)
		return ops, err
	})
	return out, err
}

// UnsetSetting removes a global setting, ordinary or secret.
func (r *Registry) UnsetSetting(ctx context.Context, key string) error {
	k, err := CheckSettingKey(key)
	if err != nil {
		return err
	}
	_, err = r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		if old, secret, err := n.unsetSecretSetting(k); secret || err != nil {
			return []Op{op(ObjSecretSetting, k, old, nil, "", "unset")}, err
		}
		old, err := n.unsetSetting(k)
		return []Op{op(ObjSetting, k, old, nil, "", "unset")}, err
	})
	return err
}

func (r *Registry) remove(ctx context.Context, kind, name string, del func(*Snapshot) (any, error)) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		old, err := del(n)
		if err != nil {
			return nil, err
		}
		v := "remove"
		if kind == ObjSetting {
			v = "unset"
		}
		return []Op{op(kind, name, old, nil, "", v)}, nil
	})
	return err
}

func settingsOf(p *Profile) map[string]string {
	if p == nil {
		return nil
	}
	return p.Settings
}

func verb(prev, name string) string {
	switch prev {
	case "":
		return "add"
	case name:
		return "edit"
	}
	return "rename"
}
