package registry

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Secret settings are settings that are never published: not in DNS, not
// in data.cdb (so not to zonecfg), not in history, not in the API's
// answers and not in an export without secrets. Only the install template
// of a system's own build sees them (kickstart.Data.Secrets). They are
// kept apart from the ordinary settings (their own field, their own
// tables, sealed at rest like BMC passwords), so that every path that
// publishes settings leaves them out without knowing of them.
//
// A key is secret or ordinary at one level (global, profile, system),
// never both; between levels the most specific one wins, whichever kind
// it is, as for settings.

// ObjSecretSetting is the kind of a global secret setting, in history.
const ObjSecretSetting = "secret-setting"

// SecretSettings maps a key to its secret value. Its JSON names the keys
// only, each with an empty value: "" as a value given in JSON (or YAML)
// keeps the value the object has at that key, so that an object read from
// the API and written back (a merge patch, an export without secrets
// imported again) keeps its secrets.
type SecretSettings map[string]Secret

// MarshalJSON writes the keys with empty values.
func (m SecretSettings) MarshalJSON() ([]byte, error) {
	masked := make(map[string]string, len(m))
	for k := range m {
		masked[k] = ""
	}
	return json.Marshal(masked)
}

// Keys lists the keys, sorted.
func (m SecretSettings) Keys() []string { return slices.Sorted(maps.Keys(m)) }

// SecretSetting is a global secret setting, as committed: the value never
// goes into JSON.
type SecretSetting struct {
	Key   string `json:"key"`
	Value Secret `json:"-"`
}

// mergeSecrets checks the secret settings given for an object (what, e.g.
// "system web01") against its ordinary settings and returns them in
// canonical form: a key given without a value keeps old's value, and is
// refused when old has none; a key that is an ordinary setting too is
// refused.
func mergeSecrets(what string, plain map[string]string, given, old SecretSettings) (SecretSettings, error) {
	if len(given) == 0 {
		return nil, nil
	}
	out := make(SecretSettings, len(given))
	for key, v := range given {
		k, err := CheckSettingKey(key)
		if err != nil {
			return nil, invalidf("%s: secret %v", what, err)
		}
		if _, both := plain[k]; both {
			return nil, invalidf("%s: setting %s is both a secret setting and an ordinary one: a key is one or the other (unset the ordinary one to make it secret)", what, k)
		}
		if v == "" {
			if v = old[k]; v == "" {
				return nil, invalidf("%s: secret setting %s has no value: give one (an empty value keeps the current one, and there is none)", what, k)
			}
		}
		if err := CheckSettingValue(k, string(v)); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// secretsNote says which secret settings changed between old and next,
// by key: what history shows of them. "" when none did.
func secretsNote(old, next SecretSettings) string {
	var set, changed, removed []string
	for _, k := range next.Keys() {
		switch v, had := old[k]; {
		case !had:
			set = append(set, k)
		case v != next[k]:
			changed = append(changed, k)
		}
	}
	for _, k := range old.Keys() {
		if _, ok := next[k]; !ok {
			removed = append(removed, k)
		}
	}
	var parts []string
	for _, p := range []struct {
		verb string
		keys []string
	}{{"set", set}, {"changed", changed}, {"removed", removed}} {
		if len(p.keys) > 0 {
			parts = append(parts, "secret "+strings.Join(p.keys, ", ")+" "+p.verb)
		}
	}
	return strings.Join(parts, "; ")
}

// secretsOf returns the secret settings of a *Profile or *System (nil for
// anything else).
func secretsOf(obj any) SecretSettings {
	switch o := obj.(type) {
	case *Profile:
		if o != nil {
			return o.SecretSettings
		}
	case *System:
		if o != nil {
			return o.SecretSettings
		}
	}
	return nil
}

// SecretKeys lists the keys of the global secret settings, sorted.
func (s *Snapshot) SecretKeys() []string { return slices.Sorted(maps.Keys(s.secrets)) }

// SecretSetting returns a global secret setting's value. Only the API's
// admin read with ?secrets=1 and the templates show it.
func (s *Snapshot) SecretSetting(key string) (Secret, bool) {
	v, ok := s.secrets[key]
	return v, ok
}

// hostValues merges, for sys, the global settings, its profile's and its
// own, each level overriding the one before whatever its kind: a key set
// at the system level as an ordinary setting hides a global secret one,
// and the other way round.
func (s *Snapshot) hostValues(sys *System) (settings, secrets map[string]string) {
	settings, secrets = map[string]string{}, map[string]string{}
	level := func(plain map[string]string, secret map[string]Secret) {
		for k, v := range plain {
			settings[k] = v
			delete(secrets, k)
		}
		for k, v := range secret {
			secrets[k] = string(v)
			delete(settings, k)
		}
	}
	level(s.settings, s.secrets)
	if p := s.profiles[sys.Profile]; p != nil {
		level(p.Settings, p.SecretSettings)
	}
	level(sys.Settings, sys.SecretSettings)
	return settings, secrets
}

// setSecretSetting sets the global secret setting key; an ordinary
// setting of that key is moved (taken out, which the returned Op says).
// An empty value keeps the current one (an import of an export made
// without secrets).
func (s *Snapshot) setSecretSetting(key string, value Secret) (*SecretSetting, []Op, error) {
	k, err := CheckSettingKey(key)
	if err != nil {
		return nil, nil, err
	}
	next, err := mergeSecrets("global", nil, SecretSettings{k: value}, s.secrets)
	if err != nil {
		return nil, nil, err
	}
	var ops []Op
	if v, ok := s.settings[k]; ok {
		delete(s.settings, k)
		o := op(ObjSetting, k, &Setting{Key: k, Value: v}, nil, "", "unset")
		o.Audit.Note = "moved to the secret settings"
		ops = append(ops, o)
	}
	out := &SecretSetting{Key: k, Value: next[k]}
	old, had := s.secrets[k]
	s.secrets[k] = out.Value
	switch {
	case !had:
		o := op(ObjSecretSetting, "", nil, out, k, "set")
		o.Audit.Note = "secret value set"
		ops = append(ops, o)
	case old != out.Value:
		o := op(ObjSecretSetting, k, &SecretSetting{Key: k}, out, k, "set")
		o.Audit.Note = "secret value changed"
		ops = append(ops, o)
	}
	return out, ops, nil
}

// unsetSecretSetting removes the global secret setting key, if there is
// one (ok false otherwise), checking the templates that may need it.
func (s *Snapshot) unsetSecretSetting(k string) (old *SecretSetting, ok bool, err error) {
	v, ok := s.secrets[k]
	if !ok {
		return nil, false, nil
	}
	delete(s.secrets, k)
	for _, sys := range s.Systems() {
		if err := s.checkRender(sys); err != nil {
			return nil, true, err
		}
	}
	return &SecretSetting{Key: k, Value: v}, true, nil
}
