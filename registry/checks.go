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
// (checksToRun, runChecks) outside the writers' lock: a render may take
// up to kickstart.RenderTimeout, and no other write waits for it.
// A change that began its commit already (stream, a large import) keeps
// the lock while they run: its transaction holds the database's.
type pending struct {
	systems []string
	vets    []string
	stream  *opStream
}

// stream is the commit s's change began, nil for none.
func (s *Snapshot) stream() *opStream {
	if s == nil || s.pending == nil {
		return nil
	}
	return s.pending.stream
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

// check is one render (sys) or vet (template) a change needs.
type check struct {
	sys      *System
	template string
	r        rendered
}

// checksToRun lists, deduplicated, the renders and vets the change needs
// that done does not hold already: cheap (no template runs), so called
// under the writers' lock.
func (s *Snapshot) checksToRun(done *renderCache) []check {
	if !s.pending.any() {
		return nil
	}
	var todo []check
	seen := map[string]bool{}
	for _, name := range s.pending.vets {
		if !seen[name] && !done.vets[vetted{s.tset, name}] {
			todo = append(todo, check{template: name})
		}
		seen[name] = true
	}
	clear(seen)
	for _, name := range s.pending.systems {
		sys, ok := s.systems.Get(name)
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		if p := s.profiles[sys.Profile]; p != nil && p.Kickstart != "" {
			r := rendered{set: s.tset, template: p.Kickstart, data: s.TemplateData(sys, sampleURLs)}
			if old, ok := done.renders[name]; !ok || old.set != r.set || old.template != r.template || !reflect.DeepEqual(old.data, r.data) {
				todo = append(todo, check{sys: sys, r: r})
			}
		}
	}
	return todo
}

// runChecks runs todo on s as the change left it, remembering in done
// what passed, and returns the first failure. ctx is the caller's: a
// caller that gives up stops the renders.
func (s *Snapshot) runChecks(ctx context.Context, todo []check, done *renderCache) error {
	for _, c := range todo {
		if c.sys == nil {
			if err := s.vetCheck(ctx, c.template, done); err != nil {
				return err
			}
			continue
		}
		if err := s.render(ctx, c.sys, c.r); err != nil {
			return err
		}
		done.renders[c.sys.Name] = c.r
	}
	return nil
}

// renderCheck renders the install template of sys with placeholder URLs.
func (s *Snapshot) renderCheck(ctx context.Context, sys *System) error {
	p := s.profiles[sys.Profile]
	if p == nil || p.Kickstart == "" {
		return nil
	}
	return s.render(ctx, sys, rendered{set: s.tset, template: p.Kickstart, data: s.TemplateData(sys, sampleURLs)})
}

func (s *Snapshot) render(ctx context.Context, sys *System, r rendered) error {
	if _, err := r.set.RenderContext(ctx, r.template, r.data); err != nil {
		var ke *kickstart.Error
		if errors.As(err, &ke) {
			return invalidf("system %s: %v", sys.Name, err)
		}
		return invalidf("system %s: template %s: %v", sys.Name, r.template, err)
	}
	return nil
}

// vetCheck vets template name, skipping it when done (if not nil) holds
// it, and remembering it there.
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

// what names the check's object.
func (c check) what() string {
	if c.sys == nil {
		return "template " + c.template
	}
	return "system " + c.sys.Name
}
