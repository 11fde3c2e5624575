package ldapauth

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestConfigDocExamples decodes the YAML examples of Config's doc comment
// as the appliance's configuration file is read (unknown fields refused):
// the doc and the yaml tags agree, and each example passes Check but for
// its CA file, which is not on this machine.
func TestConfigDocExamples(t *testing.T) {
	examples := docExamples(t)
	if len(examples) != 2 {
		t.Fatalf("Config's doc comment has %d YAML examples, want 2", len(examples))
	}
	for i, ex := range examples {
		var c Config
		dec := yaml.NewDecoder(strings.NewReader(ex))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			t.Errorf("example %d: %v\n%s", i, err, ex)
			continue
		}
		if i == 0 && (c.Timeout != 5*time.Second || c.GroupAttr != "cn" || c.BindPassword == "") {
			t.Errorf("example 0 decoded as %+v", c)
		}
		c.CAFile = ""
		if err := c.Check(); err != nil {
			t.Errorf("example %d: %v", i, err)
		}
	}
}

// docExamples are the indented blocks of Config's doc comment.
func docExamples(t *testing.T) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var doc string
	ast.Inspect(f, func(n ast.Node) bool {
		if g, ok := n.(*ast.GenDecl); ok && g.Tok == token.TYPE && g.Specs[0].(*ast.TypeSpec).Name.Name == "Config" {
			doc = g.Doc.Text()
		}
		return doc == ""
	})
	var blocks []string
	var b bytes.Buffer
	for _, line := range strings.Split(doc+"\n", "\n") {
		if strings.HasPrefix(line, "\t") {
			b.WriteString(line[1:] + "\n")
		} else if b.Len() > 0 {
			blocks = append(blocks, b.String())
			b.Reset()
		}
	}
	return blocks
}
