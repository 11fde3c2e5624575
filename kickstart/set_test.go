package kickstart

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOverride(t *testing.T) {
	mine := Template{"debian12-preseed", KindPreseed, "d-i netcfg/get_hostname string {{.System.Name}}\n"}
	s, err := NewSet(Builtins(), []Template{mine})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"debian12-preseed", "deploy", "rhel9-kickstart", "ubuntu-autoinstall"}, s.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if got, ok := s.Lookup("debian12-preseed"); !ok || got != mine {
		t.Errorf("Lookup = %v, %v; want the user's", got, ok)
	}
	got, err := s.Render("debian12-preseed", SampleData())
	if err != nil || string(got) != "d-i netcfg/get_hostname string web001\n" {
		t.Errorf("Render = %q, %v; want the user's template", got, err)
	}
	if _, ok := s.Lookup("nope"); ok {
		t.Error("Lookup found nope")
	}
}

func TestNewSetErrors(t *testing.T) {
	a := Template{"a", KindScript, "x"}
	for _, c := range []struct {
		name           string
		builtins, user []Template
		want           string
	}{
		{"user twice", nil, []Template{a, a}, "template a: given twice"},
		{"built-in twice", []Template{a, a}, nil, "template a: given twice"},
		{"syntax", nil, []Template{a, {"b", KindSnippet, "\n{{end}}"}}, "template b: line 2: unexpected {{end}}"},
		{"bad user name", nil, []Template{{"B/1", KindScript, ""}}, `template B/1: bad name "B/1": use letters, digits, '.', '_' and '-' (at most 63, starting with a letter or digit)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSet(c.builtins, c.user)
			var e *Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Errorf("NewSet: %v, want *Error %q", err, c.want)
			}
		})
	}
}

func TestIncludes(t *testing.T) {
	s, err := NewSet(nil, []Template{
		{"top", KindKickstart, `{{template "net" .}}{{if .System.IP}}{{template "disk" .}}{{else if .System.Gateway}}{{template "gw" .}}{{end}}` +
			`{{range .System.DNS}}{{with .}}{{template "dns" .}}{{else}}{{template "net" $}}{{end}}{{end}}`},
		{"net", KindSnippet, "net"},
		{"leaf", KindSnippet, "{{.System.Name}}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"top", []string{"disk", "dns", "gw", "net"}},
		{"leaf", nil},
		{"nope", nil},
	} {
		if diff := cmp.Diff(c.want, s.Includes(c.name)); diff != "" {
			t.Errorf("Includes(%s) (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestRenderRefuses(t *testing.T) {
	s, err := NewSet(Builtins(), []Template{{"disks", KindSnippet, "clearpart --all"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		target error
		want   string
	}{
		{"disks", ErrSnippet, `template "disks": a snippet is only included by other templates, never rendered on its own`},
		{"centos7", ErrNotFound, `template "centos7": no such template`},
	} {
		out, err := s.Render(c.name, SampleData())
		if !errors.Is(err, c.target) || err.Error() != c.want || out != nil {
			t.Errorf("Render(%s) = %q, %v; want %q", c.name, out, err, c.want)
		}
	}
}

// TestRenderConcurrently renders the built-ins from many goroutines at once
// (run with -race).
func TestRenderConcurrently(t *testing.T) {
	s, err := NewSet(Builtins(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := s.Render("rhel9-kickstart", SampleData())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, name := range s.Names() {
				got, err := s.Render(name, SampleData())
				if err != nil || (name == "rhel9-kickstart" && !bytes.Equal(got, want)) {
					t.Errorf("Render(%s): %v", name, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestVet(t *testing.T) {
	user := []Template{
		{"typo", KindScript, "ok\n{{.System.Nmae}}\n"},
		{"needs-disk", KindScript, "{{.Settings.disk}} {{index .Settings \"x\" | required \"x must be set\"}}\n"},
		{"includes-missing", KindScript, "\n\n{{template \"nosuch\" .}}\n"},
		{"snippet-typo", KindSnippet, "{{.Subnet.Mask}}"},
		{"uses-snippet", KindScript, "{{template \"snippet-typo\" .}}"},
	}
	s, err := NewSet(Builtins(), user)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"typo", `template typo: line 2: can't evaluate field Nmae in type kickstart.System`},
		{"needs-disk", ""},
		{"includes-missing", `template includes-missing: line 3: no such template "nosuch"`},
		{"uses-snippet", `template snippet-typo: line 1: can't evaluate field Mask in type kickstart.Subnet`},
		{"debian12-preseed", ""},
		{"rhel9-kickstart", ""},
		{"ubuntu-autoinstall", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Vet(context.Background(), tt.name)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Fatalf("Vet(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	// Vet leaves the set strict.
	if _, err := s.Render("needs-disk", SampleData()); err == nil {
		t.Fatal("after Vet, Render is lenient about a missing setting")
	}
}
