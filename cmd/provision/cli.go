package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/buildinfo"
)

// version and commit are set at build time (-ldflags "-X main.version=1.2.3
// -X main.commit=abc123"); see package buildinfo.
var version, commit = "", ""

// versionString is "provision VERSION (commit C, DATE, GOVERSION)".
func versionString() string { return buildinfo.String("provision", version, commit) }

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version, commit and Go version", Args: args(cobra.NoArgs),
		Example: "  provision version\n  provision --version",
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), versionString())
			return nil
		},
	}
}

// wireGroups makes every command that only groups others (system,
// profile, ...) refuse an unknown subcommand as a usage error with a
// suggestion, instead of printing its help and succeeding; with no
// subcommand at all it prints its help.
func wireGroups(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.SuggestionsMinimumDistance = 2
		c.Args = func(c *cobra.Command, a []string) error {
			if len(a) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", a[0], c.CommandPath())
			if s := c.SuggestionsFor(a[0]); len(s) > 0 {
				msg += fmt.Sprintf("\nDid you mean %q?", c.CommandPath()+" "+s[0])
			} else {
				msg += fmt.Sprintf("\nRun '%s --help' for its commands.", c.CommandPath())
			}
			return usageError{fmt.Errorf("%s", msg)}
		}
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	switch c.Name() { // what other tools call them
	case "remove":
		c.SuggestFor = append(c.SuggestFor, "delete", "rm", "del")
	case "list":
		c.SuggestFor = append(c.SuggestFor, "ls")
	}
	for _, sub := range c.Commands() {
		wireGroups(sub)
	}
}

// cobraUsage reports whether an error cobra made itself is about how the
// command was called (exit 2): a required flag missing, flags that go
// together.
func cobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"required flag(s)", "if any flags in the group", "at least one of the flags in the group", "unknown command", "unknown flag", "unknown shorthand flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
