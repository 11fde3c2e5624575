package kickstart

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/testenv"
)

func TestFuncs(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{`{{index .Settings "install.disk" | default "/dev/sda"}}`, "/dev/sda"},
		{`{{index .Settings "set" | default "x"}}`, "yes"},
		{`{{index .Settings "set" | required "set must be set"}}`, "yes"},
		{`{{join "," .System.DNS}}|{{join "," .System.MACs}}`, "10.0.0.1,10.0.0.2|"},
		{`{{range split "." "web001.internal"}}[{{.}}]{{end}}`, "[web001][internal]"},
		{`{{len (split "," "")}} {{len (split "," ",")}}`, "0 2"},
		{`{{lower "ABC"}} {{upper "abc"}} [{{trim " \tx y\n"}}]`, "abc ABC [x y]"},
		{`{{replace ":" "-" .System.MAC}}`, "52-54-00-aa-bb-01"},
		{`{{indent 2 "a\nb"}}|{{indent 4 "a\n\nb\n"}}|{{indent 2 ""}}|{{indent -1 "a"}}`, "  a\n  b|    a\n    \n    b\n||a"},
		{`{{hasPrefix "https://" "https://x"}} {{hasPrefix "https://" "http://x"}}`, "true false"},
		{`{{contains "://" "http://x"}} {{contains "://" "x"}}`, "true false"},
		{`{{shquote "it's"}} {{shquote ""}}`, `'it'\''s' ''`},
		{`{{yaml "a: b # c"}} {{yaml "\"\\\n"}}`, `"a: b # c" "\"\\\n"`},
	} {
		t.Run(c.text, func(t *testing.T) {
			s, err := NewSet(nil, []Template{{"f", KindScript, c.text}})
			if err != nil {
				t.Fatal(err)
			}
			d := SampleData()
			d.Settings = map[string]string{"set": "yes"}
			d.System.DNS = []string{"10.0.0.1", "10.0.0.2"}
			d.System.MACs = nil
			got, err := s.Render("f", d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// awkward are strings that quoting must carry through unchanged.
var awkward = []string{"", "plain", "it's", `'"'`, "a b\tc", "$HOME `id` $(id) \\n", "line\nline\r\n", "#not a comment",
	": colon", "- dash", "[x]", "{x: y}", "*alias", "&anchor", "!tag", "%", "@at", "yes", "no", "~", "null", "0x1F", "1e3",
	"\x00\x01\x1b\x7f", "\u0085\u00a0\u2028\u2029\ufeff", "ünïcödé 日本", "\U0001F600", "\xff\xfe bad UTF-8"}

func TestShquoteRoundTrip(t *testing.T) {
	sh := testenv.NeedCommand(t, "sh")
	for _, s := range awkward {
		if strings.ContainsRune(s, 0) {
			continue // a NUL cannot be in an argument
		}
		out, err := exec.Command(sh, "-c", "printf %s "+shquote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh -c 'printf %%s %s' = %q, %v; want %q", shquote(s), out, err, s)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	for _, s := range awkward {
		var got map[string]string
		doc := "key: " + yamlQuote(s) + "\n"
		if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
			t.Errorf("%q: %v", doc, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got["key"] != want {
			t.Errorf("yaml %s = %q, want %q", yamlQuote(s), got["key"], want)
		}
	}
}

// TestYAMLPyYAML reads the quoted strings with PyYAML, cloud-init's parser.
func TestYAMLPyYAML(t *testing.T) {
	python := testenv.NeedCommand(t, "python3")
	if exec.Command(python, "-c", "import yaml").Run() != nil {
		testenv.Missing(t, "python3 has no yaml module (python3-yaml)")
	}
	var doc strings.Builder
	var want []string
	for _, s := range awkward {
		doc.WriteString("- " + yamlQuote(s) + "\n")
		want = append(want, strings.ToValidUTF8(s, "\uFFFD"))
	}
	cmd := exec.Command(python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))")
	cmd.Stdin = strings.NewReader(doc.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML: %v\n%s", err, doc.String())
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PyYAML (-want +got):\n%s", diff)
	}
}

// TestFuncsDocumented checks that doc.go lists every function.
func TestFuncsDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(funcs())) {
		switch name {
		case tickFunc, "printf", "print", "println", "html", "js", "urlquery": // internal; text/template's, bounded
			continue
		}
		if !strings.Contains(string(doc), "//\t"+name+" ") {
			t.Errorf("doc.go does not list %s", name)
		}
	}
}
