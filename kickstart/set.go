package kickstart

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"text/template"
	"text/template/parse"
)

// Set is a parsed set of templates that can include one another by name
// ({{template "NAME" .}}). It is built once, by NewSet, and then only read,
// so many goroutines can use it at once.
type Set struct {
	root      *template.Template  // holds every template, by name
	templates map[string]Template // the effective templates
}

// NewSet checks and parses the built-in templates, then the user's: a user
// template with a built-in's name replaces it. A name given twice in one
// list is an error. Errors are *Error. NewSet does not look for the
// templates that others include: Render reports a missing one.
func NewSet(builtins, user []Template) (*Set, error) {
	templates, err := merge(builtins, user)
	if err != nil {
		return nil, err
	}
	root := template.New("").Funcs(funcs()).Option("missingkey=error")
	for _, name := range slices.Sorted(maps.Keys(templates)) {
		t, err := parseTemplate(templates[name])
		if err != nil {
			return nil, err
		}
		addTicks(t.Tree)
		if _, err := root.AddParseTree(name, t.Tree); err != nil {
			return nil, newError(name, err)
		}
	}
	return &Set{root: root, templates: templates}, nil
}

// merge indexes the templates by name, the user's replacing the built-ins.
func merge(builtins, user []Template) (map[string]Template, error) {
	templates := make(map[string]Template)
	for _, list := range [][]Template{builtins, user} {
		seen := make(map[string]bool)
		for _, t := range list {
			if seen[t.Name] {
				return nil, &Error{Template: t.Name, Msg: "given twice"}
			}
			seen[t.Name] = true
			templates[t.Name] = t
		}
	}
	return templates, nil
}

// Lookup returns the effective template called name: the user's, if there
// is one, else the built-in.
func (s *Set) Lookup(name string) (Template, bool) {
	t, ok := s.templates[name]
	return t, ok
}

// Names returns the names of the templates, sorted.
func (s *Set) Names() []string { return slices.Sorted(maps.Keys(s.templates)) }

// Render executes the template name for d, with missingkey=error: a
// template that reads .Settings.KEY for a KEY the host does not have fails
// (use index .Settings "KEY"). Render refuses an unknown name (ErrNotFound)
// and a snippet (ErrSnippet); an error while executing is an *Error. A
// render is bounded in time and size (RenderTimeout, MaxRenderSize): one
// that passes a bound fails with an *Error that wraps ErrRenderLimit.
func (s *Set) Render(name string, d Data) ([]byte, error) {
	return s.RenderContext(context.Background(), name, d)
}

// RenderContext is Render that also stops when ctx ends.
func (s *Set) RenderContext(ctx context.Context, name string, d Data) ([]byte, error) {
	t, ok := s.templates[name]
	if !ok {
		return nil, fmt.Errorf("template %q: %w", name, ErrNotFound)
	}
	if t.Kind == KindSnippet {
		return nil, fmt.Errorf("template %q: %w", name, ErrSnippet)
	}
	return execute(ctx, s.root, name, d, nil, false)
}

// Includes returns the names of the templates that the template name
// includes directly ({{template "NAME"}}), sorted.
func (s *Set) Includes(name string) []string {
	t := s.root.Lookup(name)
	if _, ok := s.templates[name]; !ok || t == nil || t.Tree == nil {
		return nil
	}
	names := make(map[string]bool)
	includes(t.Tree.Root, names)
	return slices.Sorted(maps.Keys(names))
}

// includes adds to names the templates that n includes.
func includes(n parse.Node, names map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			includes(c, names)
		}
	case *parse.TemplateNode:
		names[n.Name] = true
	case *parse.IfNode:
		branchIncludes(&n.BranchNode, names)
	case *parse.RangeNode:
		branchIncludes(&n.BranchNode, names)
	case *parse.WithNode:
		branchIncludes(&n.BranchNode, names)
	}
}

func branchIncludes(b *parse.BranchNode, names map[string]bool) {
	includes(b.List, names)
	if b.ElseList != nil {
		includes(b.ElseList, names)
	}
}

// Vet executes the template name (a snippet too) for SampleData, leniently
// about settings: a missing key reads as "" and required passes, since a
// host's settings are not known here. It catches what no host's data can
// make right: a field that does not exist (.System.Nmae), an include of a
// template that does not exist, a function given the wrong arguments.
// Errors are *Error.
// Vet is bounded as Render is, and stops when ctx ends.
func (s *Set) Vet(ctx context.Context, name string) error {
	if _, ok := s.templates[name]; !ok {
		return fmt.Errorf("template %q: %w", name, ErrNotFound)
	}
	lenient := template.FuncMap{"required": func(_, value string) string { return value }}
	_, err := execute(ctx, s.root, name, SampleData(), lenient, true)
	return err
}
