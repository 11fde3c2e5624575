package cliutil

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// UsageError marks an error in how a command was called: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap gives the error itself.
func (e UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is about how the command was called: a
// UsageError, or one that cobra made itself (a required flag missing,
// flags that go together, an unknown command or flag).
func IsUsage(err error) bool {
	var ue UsageError
	if errors.As(err, &ue) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"required flag(s)", "if any flags in the group", "at least one of the flags in the group", "unknown command", "unknown flag", "unknown shorthand flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// Args wraps a cobra.PositionalArgs so that its error is a usage error.
func Args(f cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		if err := f(c, a); err != nil {
			return UsageError{err}
		}
		return nil
	}
}

// WireGroups makes every command under c that only groups others refuse
// an unknown subcommand as a usage error with a suggestion, instead of
// printing its help and succeeding; with no subcommand at all it prints
// its help. remove and list also answer to what other tools call them.
func WireGroups(c *cobra.Command) {
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
			return UsageError{errors.New(msg)}
		}
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	switch c.Name() {
	case "remove":
		c.SuggestFor = append(c.SuggestFor, "delete", "rm", "del")
	case "list":
		c.SuggestFor = append(c.SuggestFor, "ls")
	}
	for _, sub := range c.Commands() {
		WireGroups(sub)
	}
}

// WireExamples gives every command under c without examples its own from
// examples (by command path, one example a line), indented as cobra
// prints them.
func WireExamples(c *cobra.Command, examples map[string]string) {
	if ex, ok := examples[c.CommandPath()]; ok && c.Example == "" {
		c.Example = "  " + strings.ReplaceAll(ex, "\n", "\n  ")
	}
	for _, sub := range c.Commands() {
		WireExamples(sub, examples)
	}
}

// ManPages writes a manual page (section 1) for every command of root
// into dir, made from the --help texts.
func ManPages(root *cobra.Command, dir, title, source string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Title: title, Section: "1", Source: source, Manual: strings.ToLower(title) + " manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		return fmt.Errorf("manual pages: %w", err)
	}
	return nil
}
