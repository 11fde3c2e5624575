package kickstart

import (
	"embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// Template is one install template: a text/template over Data, with the
// functions that doc.go lists.
type Template struct {
	Name string `json:"name" yaml:"name"` // a DNS label: [a-z0-9][a-z0-9-]{0,62}
	Kind string `json:"kind" yaml:"kind"` // one of Kinds
	Text string `json:"text" yaml:"text"`
}

//go:embed builtin/*.tmpl
var builtinFiles embed.FS

// builtinKinds gives the kind of each built-in template, builtin/NAME.tmpl.
func builtinKinds() map[string]string {
	return map[string]string{
		"debian12-preseed":   KindPreseed,
		"deploy":             KindDeploy,
		"rhel9-kickstart":    KindKickstart,
		"ubuntu-autoinstall": KindAutoinstall,
	}
}

// Builtins returns the built-in templates, sorted by name:
// rhel9-kickstart (Rocky and Alma Linux 9), debian12-preseed (Debian 12),
// ubuntu-autoinstall (Ubuntu's subiquity, as cloud-init user-data) and
// deploy (the plan of a disk image's deploy: its layout, and the files
// that make it this machine).
// Each call returns fresh copies.
func Builtins() []Template {
	kinds := builtinKinds()
	var ts []Template
	for _, name := range slices.Sorted(maps.Keys(kinds)) {
		text, err := builtinFiles.ReadFile("builtin/" + name + ".tmpl")
		if err != nil {
			// The table and builtin/ disagree: a broken build, which
			// TestBuiltinFiles catches.
			panic("kickstart: " + err.Error())
		}
		ts = append(ts, Template{Name: name, Kind: kinds[name], Text: string(text)})
	}
	return ts
}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$`)

// Check checks one template on its own: its name (like every object's: at most 63
// letters, digits, '.', '_' and '-', starting with a letter or digit),
// its kind and the syntax of its text (unknown functions, bad actions). It
// does not look for the templates that t includes. Errors are *Error.
func Check(t Template) error {
	_, err := parseTemplate(t)
	return err
}

// parseTemplate checks t and parses its text on its own.
func parseTemplate(t Template) (*template.Template, error) {
	if !nameRE.MatchString(t.Name) {
		return nil, &Error{Template: t.Name, Msg: fmt.Sprintf("bad name %q: use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)", t.Name)}
	}
	if !knownKind(t.Kind) {
		return nil, &Error{Template: t.Name, Msg: fmt.Sprintf("unknown kind %q: want one of %s", t.Kind, strings.Join(Kinds, ", "))}
	}
	tmpl, err := template.New(t.Name).Funcs(funcs()).Parse(t.Text)
	if err != nil {
		return nil, newError(t.Name, err)
	}
	if other := defined(tmpl); other != "" {
		return nil, &Error{Template: t.Name, Msg: fmt.Sprintf("defines template %q: make it a template of its own, of kind snippet", other)}
	}
	return tmpl, nil
}

// defined returns the first other template that tmpl defines ({{define}}
// or {{block}}), or "". Such a definition would replace another template
// of the Set behind its back.
func defined(tmpl *template.Template) string {
	var names []string
	for _, d := range tmpl.Templates() {
		if d.Name() != tmpl.Name() {
			names = append(names, d.Name())
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
