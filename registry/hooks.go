package registry

import (
	"context"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
)

// ObjHook is a webhook: where the appliance POSTs the events it names.
const ObjHook = "hook"

// The events a hook may name (HookEvents). A registry change reports
// system.* (and build.* for a lifecycle transition, accepted for an
// accepted discovered machine) from its commit; the others are reported
// by the appliance (Registry.Notify).
const (
	HookSystemAdded    = "system.added"
	HookSystemChanged  = "system.changed"
	HookSystemRemoved  = "system.removed"
	HookBuildStarted   = "build.started"
	HookBuildInstalled = "build.installed"
	HookBuildFailed    = "build.failed"
	HookPower          = "power"
	HookBooted         = "booted"
	HookDiscovered     = "discovered"
	HookAccepted       = "accepted"
	HookAll            = "all" // every event, now and to come
)

// HookEvents are the events a hook may name, HookAll last.
var HookEvents = []string{HookSystemAdded, HookSystemChanged, HookSystemRemoved, HookBuildStarted,
	HookBuildInstalled, HookBuildFailed, HookPower, HookBooted, HookDiscovered, HookAccepted, HookAll}

// Hook is a webhook. Its Secret signs each body (HMAC-SHA256): sealed at
// rest like a BMC password, never in JSON or history, in an export only
// with secrets; SecretSet says whether there is one.
type Hook struct {
	Name   string   `json:"name" yaml:"name"`
	URL    string   `json:"url" yaml:"url"` // http or https
	Events []string `json:"events" yaml:"events"`
	// SystemFilter is a path.Match glob on system names ("web*"); "":
	// every system, and the events of no system.
	SystemFilter string `json:"system_filter,omitempty" yaml:"system_filter,omitempty"`
	Secret       Secret `json:"-" yaml:"secret,omitempty"`
	SecretSet    bool   `json:"secret_set" yaml:"-"`
}

// Wants reports whether h takes event about system (a name; "" for an
// event of no system).
func (h *Hook) Wants(event, system string) bool {
	if !slices.Contains(h.Events, event) && !slices.Contains(h.Events, HookAll) {
		return false
	}
	if h.SystemFilter == "" {
		return true
	}
	ok, _ := path.Match(h.SystemFilter, system)
	return ok
}

// Hooks lists the hooks by name.
func (s *Snapshot) Hooks() []*Hook {
	out := make([]*Hook, 0, len(s.hooks))
	for _, k := range slices.Sorted(maps.Keys(s.hooks)) {
		out = append(out, s.hooks[k])
	}
	return out
}

// Hook finds a hook by name.
func (s *Snapshot) Hook(name string) (*Hook, bool) { x, ok := s.hooks[name]; return x, ok }

// AddHook stores a new hook.
func (r *Registry) AddHook(ctx context.Context, x Hook) error {
	_, err := r.mutate(ctx, false, func(n *Snapshot) ([]Op, error) {
		out, err := n.putHook("", x)
		if err != nil {
			return nil, err
		}
		return []Op{op(ObjHook, "", nil, out, out.Name, "add")}, nil
	})
	return err
}

// RemoveHook removes a hook, with its deliveries still to make.
func (r *Registry) RemoveHook(ctx context.Context, name string) error {
	return r.remove(ctx, ObjHook, name, func(n *Snapshot) (any, error) {
		old, ok := n.hooks[name]
		if !ok {
			return nil, notFound(ObjHook, name)
		}
		delete(n.hooks, name)
		return old, nil
	})
}

// putHook validates x and stores it in place of prev (prev is "" or
// x.Name: a hook is not renamed, its deliveries go by its name).
func (s *Snapshot) putHook(prev string, x Hook) (*Hook, error) {
	if err := CheckObjectName(ObjHook, x.Name); err != nil {
		return nil, err
	}
	if err := checkHookURL(x.URL); err != nil {
		return nil, invalidf("hook %s: %v", x.Name, err)
	}
	if err := checkHookEvents(x.Events); err != nil {
		return nil, invalidf("hook %s: %v", x.Name, err)
	}
	if _, err := path.Match(x.SystemFilter, ""); err != nil {
		return nil, invalidf("hook %s: system filter %q: %v", x.Name, x.SystemFilter, err)
	}
	if err := s.checkNew(ObjHook, prev, x.Name, s.hooks[x.Name] != nil); err != nil {
		return nil, err
	}
	if old := s.hooks[prev]; old != nil && x.Secret == "" {
		x.Secret = old.Secret // an import without secrets keeps it
	}
	x.Events, x.SecretSet = slices.Clone(x.Events), x.Secret != ""
	s.hooks[x.Name] = &x
	return &x, nil
}

func checkHookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return invalidf("url %q: give an http:// or https:// URL with a host", raw)
	}
	if u.User != nil {
		return invalidf("url %s: no user or password in the URL (the secret signs each delivery)", u.Redacted())
	}
	return nil
}

func checkHookEvents(events []string) error {
	if len(events) == 0 {
		return invalidf("no events: name some of %s", strings.Join(HookEvents, ", "))
	}
	for _, e := range events {
		if !slices.Contains(HookEvents, e) {
			return invalidf("event %q: not one of %s", e, strings.Join(HookEvents, ", "))
		}
	}
	return nil
}
