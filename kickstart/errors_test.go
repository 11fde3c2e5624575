package kickstart

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		t    Template
		want Error
	}{
		{"syntax", Template{"rocky9", KindKickstart, "text\n{{.System.Name"}, Error{"rocky9", 2, "unclosed action"}},
		{"syntax, more lines", Template{"rocky9", KindKickstart, "text\n{{.System.Name\n\n"}, Error{"rocky9", 2, "unclosed action"}},
		{"bad action", Template{"rocky9", KindKickstart, "a\nb\n{{ } }}"}, Error{"rocky9", 3, `unexpected "}" in command`}},
		{"unknown function", Template{"rocky9", KindKickstart, "{{env \"HOME\"}}"}, Error{"rocky9", 1, `function "env" not defined`}},
		{"unclosed if", Template{"rocky9", KindKickstart, "{{if .System.IP}}\n"}, Error{"rocky9", 2, "unexpected EOF"}},
		{"define", Template{"rocky9", KindKickstart, `{{define "disks"}}x{{end}}`}, Error{"rocky9", 0, `defines template "disks": make it a template of its own, of kind snippet`}},
		{"bad kind", Template{"rocky9", "ks", ""}, Error{"rocky9", 0, `unknown kind "ks": want one of kickstart, preseed, autoinstall, script, deploy, snippet`}},
		{"slash in name", Template{"a/b", KindKickstart, ""}, Error{"a/b", 0, `bad name "a/b": use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)`}},
		{"leading dot", Template{".ks", KindKickstart, ""}, Error{".ks", 0, `bad name ".ks": use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)`}},
		{"empty name", Template{"", KindKickstart, ""}, Error{"", 0, `bad name "": use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e *Error
			if err := Check(c.t); !errors.As(err, &e) {
				t.Fatalf("Check: %v, want an *Error", err)
			}
			if diff := cmp.Diff(&c.want, e); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	long := "a23456789012345678901234567890123456789012345678901234567890123" // 63 characters
	for _, tm := range []Template{
		{"rocky9", KindKickstart, `{{index .Settings "install.disk" | default "/dev/sda"}}`},
		{long, KindSnippet, `{{template "not-yet-defined" .}}`},
		{"0-x", KindScript, ""},
	} {
		if err := Check(tm); err != nil {
			t.Errorf("Check(%s): %v", tm.Name, err)
		}
	}
	if err := Check(Template{long + "4", KindScript, ""}); err == nil {
		t.Error("Check accepted a 64-character name")
	}
}

func TestRenderErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		text string // of rocky9
		want string
	}{
		{"missing key", "text\nlang en_US\n{{.Settings.disk}}", `template rocky9: line 3: map has no entry for key "disk"`},
		{"in a snippet", "a\n{{template \"disks\" .}}", `template disks: line 3: map has no entry for key "disk"`},
		{"undefined include", "a\nb\n{{template \"x\" .}}", `template rocky9: line 3: no such template "x"`},
		{"required", "\n{{index .Settings \"install.disk\" | required \"install.disk must be set\"}}", "template rocky9: line 2: install.disk must be set"},
		{"in an empty snippet's neighbour", "{{template \"empty\" .}}{{.Settings.disk}}", `template rocky9: line 1: map has no entry for key "disk"`},
		{"no such field", "{{.System.Disk}}", `template rocky9: line 1: can't evaluate field Disk in type kickstart.System`},
		{"'>: ' in the context", "{{indent \">: \" \"x\"}}", `template rocky9: line 1: expected integer; found ">: "`},
		{"'>: ' in a raw string", "{{indent `>: ` \"x\"}}", "template rocky9: line 1: expected integer; found `>: `"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSet(nil, []Template{
				{"rocky9", KindKickstart, c.text},
				{"disks", KindSnippet, "ignoredisk\nclearpart\n{{.Settings.disk}}"},
				{"empty", KindSnippet, ""},
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Render("rocky9", SampleData())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Render: %v, want an *Error", err)
			}
			if diff := cmp.Diff(c.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewError converts text/template's messages as they are worded, for
// the cases that templates do not reach easily.
func TestNewError(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{`template: disks: "disks" is an incomplete or empty template`, `template disks: "disks" is an incomplete or empty template`},
		{`template: no template "x" associated with template ""`, `template rocky9: no template "x" associated with template ""`},
		{`template: disks:4:2: executing "disks" at <{{template "raid" .}}>: template "raid" not defined`, `template disks: line 4: no such template "raid"`},
		{`template: disks:4:2: executing "disks" at <unterminated: x`, `template disks: line 4: executing "disks" at <unterminated: x`},
		{"write /dev/full: no space left on device", "template rocky9: write /dev/full: no space left on device"},
	} {
		if got := newError("rocky9", errors.New(c.msg)).Error(); got != c.want {
			t.Errorf("newError(%q) = %q, want %q", c.msg, got, c.want)
		}
	}
}
