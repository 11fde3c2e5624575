package cobbler

import (
	"os"
	"strings"
	"testing"
)

// gapList is Unsupported as docs/migrating.md lists it, one line a Gap.
func gapList() string {
	var b strings.Builder
	for _, g := range Unsupported {
		what := "`" + g.Field + "` (" + g.Kind + "s)"
		switch g.Kind {
		case "":
			what = g.Field
		case "*":
			what = "`" + g.Field + "` (any object)"
		case "collection":
			what = "the `" + g.Field + "` collection"
		}
		b.WriteString("- " + what + ": " + g.Reason + ".\n")
	}
	return b.String()
}

// docs/migrating.md's list of what a Cobbler import does not carry over
// is Unsupported: UPDATE_DOCS=1 rewrites it.
func TestDocsUnsupported(t *testing.T) {
	const name = "../docs/migrating.md"
	const begin, end = "<!-- cobbler gaps: made by TestDocsUnsupported; UPDATE_DOCS=1 go test -run TestDocsUnsupported ./cobbler -->\n", "<!-- end of cobbler gaps -->"
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q ... %q", name, begin, end)
	}
	want := gapList()
	if got := doc[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_DOCS") == "1" {
			if err := os.WriteFile(name, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s's list of what a Cobbler import cannot carry over is not cobbler.Unsupported; run UPDATE_DOCS=1 go test -run TestDocsUnsupported ./cobbler\n--- %s\n%s\n--- Unsupported\n%s", name, name, got, want)
	}
}
