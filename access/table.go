package access

import (
	"strings"
)

// RightsTable is the roles' rights as a Markdown table, as the docs show
// it (docs/access.md).
func RightsTable() string {
	var b strings.Builder
	b.WriteString("| right | what it allows |")
	for _, r := range Roles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n|---|---|")
	for range Roles {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, right := range AllRights {
		b.WriteString("| " + string(right) + " | " + right.About() + " |")
		for _, r := range Roles {
			mark := " |"
			if r.Has(right) {
				mark = " ✓ |"
			}
			b.WriteString(mark)
		}
		b.WriteString("\n")
	}
	return b.String()
}
