package main

import (
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// commandReference is the README's command list, made from the CLI: every
// command with its use line and what it does.
func commandReference() string {
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if !c.HasSubCommands() && c.Runnable() && c.HasParent() {
			use := strings.Join(strings.Fields(c.Use), " ")
			parent := strings.TrimSuffix(c.CommandPath(), " "+c.Name())
			b.WriteString(parent + " " + use + "\n    " + c.Short + "\n")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
	return b.String()
}

// The README's command reference is the CLI's: UPDATE_README=1 rewrites it.
func TestREADMECommands(t *testing.T) {
	const begin, end = "<!-- commands: made by TestREADMECommands; UPDATE_README=1 go test -run TestREADMECommands ./cmd/provision -->\n```\n", "```\n<!-- end of commands -->"
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the command reference markers %q ... %q", begin, end)
	}
	want := commandReference()
	if got := readme[i+len(begin) : j]; got != want {
		if os.Getenv("UPDATE_README") == "1" {
			os.WriteFile("../../README.md", []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644)
			return
		}
		t.Errorf("README.md's command reference is not the CLI's; run UPDATE_README=1 go test -run TestREADMECommands ./cmd/provision\n--- README\n%s\n--- CLI\n%s", got, want)
	}
}
