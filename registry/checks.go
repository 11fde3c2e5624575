package registry

import (
	"context"
	"errors"
	"reflect"

	"github.com/provision/provision/kickstart"
)

// pending lists what a change must render before it commits: the systems
// whose install template it may have broken (by name: the version the
// change leaves is rendered), and the templates to vet. mutate runs them
// (runChecks) outside the writers' lock: a render may take up to
// kickstart.RenderTimeout, and no other write waits for it.
type pending struct {
	systems []string
	vets    []string
}

func (p *pending) any() bool { return p != nil && len(p.systems)+len(p.vets) > 0 }

// renderCache remembers the renders that passed in earlier tries of one
// change: a try again after another write came first renders only what
// that write changed (the template set or the system's data).
type renderCache struct {
	renders map[string]rendered // by system name
	vets    map[vetted]bool
}

type rendered struct {
	set      *kickstart.Set
	template string
	data     kickstart.Data
}

type vetted struct {
	set  *kickstart.Set
	name string
}

func newRenderCache() *renderCache {
	return &renderCache{renders: map[string]rendered{}, vets: map[vetted]bool{}}
}

// runChecks renders and vets what the change listed, on s as the change
// left it, and returns the first failure. ctx is the caller's: a caller
// that gives up stops the renders.
func (s *Snapshot) runChecks(ctx context.Context, done *renderCache) error {
	seen := map[string]bool{}
	for _, name := range s.pending.vets {
		if !seen[name] {
			seen[name] = true
			if err := s.vetCheck(ctx, name, done); err != nil {
				return err
			}
		}
	}
	clear(seen)
	for _, name := range s.pending.systems {
		sys, ok := s.systems.Get(name)
		if ok && !seen[name] {
			seen[name] = true
			if err := s.renderCheck(ctx, sys, done); err != nil {
				return err
			}
		}
	}
	return nil
}

// renderCheck renders the install template of sys with placeholder URLs;
// done, if not nil, skips a render that already passed with the same
// templates and data, and remembers this one.
func (s *Snapshot) renderCheck(ctx context.Context, sys *System, done *renderCache) error {
	p := s.profiles[sys.Profile]
	if p == nil || p.Kickstart == "" {
		return nil
	}
	r := rendered{set: s.tset, template: p.Kickstart, data: s.TemplateData(sys, sampleURLs)}
	if done != nil {
		if old, ok := done.renders[sys.Name]; ok && old.set == r.set && old.template == r.template && reflect.DeepEqual(old.data, r.data) {
			return nil
		}
	}
	if _, err := s.tset.RenderContext(ctx, p.Kickstart, r.data); err != nil {
		var ke *kickstart.Error
		if errors.As(err, &ke) {
			return invalidf("system %s: %v", sys.Name, err)
		}
		return invalidf("system %s: template %s: %v", sys.Name, p.Kickstart, err)
	}
	if done != nil {
		done.renders[sys.Name] = r
	}
	return nil
}

// vetCheck vets template name, remembering it in done as renderCheck does.
func (s *Snapshot) vetCheck(ctx context.Context, name string, done *renderCache) error {
	v := vetted{s.tset, name}
	if done != nil && done.vets[v] {
		return nil
	}
	if err := s.tset.Vet(ctx, name); err != nil {
		return invalidf("%v", err)
	}
	if done != nil {
		done.vets[v] = true
	}
	return nil
}
