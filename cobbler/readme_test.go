package cobbler

import (
	"os"
	"strings"
	"testing"
)

// gapList is Unsupported as the README lists it, one line a Gap.
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

// The README's list of what is not carried over is Unsupported:
// UPDATE_README=1 rewrites it.
func TestREADMEUnsupported(t *testing.T) {
	const begin, end = "<!-- cobbler gaps: made by TestREADMEUnsupported; UPDATE_README=1 go test -run TestREADMEUnsupported ./cobbler -->\n", "<!-- end of cobbler gaps -->"
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", begin, end)
	}
	want := gapList()
	if got := readme[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_README") == "1" {
			os.WriteFile("../README.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644)
			return
		}
		t.Errorf("README.md's list of what a Cobbler import cannot carry over is not cobbler.Unsupported; run UPDATE_README=1 go test -run TestREADMEUnsupported ./cobbler\n--- README\n%s\n--- Unsupported\n%s", got, want)
	}
}
