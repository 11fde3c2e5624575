package cliutil

import (
	"strings"

	"github.com/spf13/cobra"
)

// Completion completes the names of the objects commands take.
type Completion struct {
	// Groups maps a command group (system, profile...) to the kind of
	// object its commands' NAME (KEY, SYS) argument names.
	Groups map[string]string
	// Commands maps a command outside those groups (power, history) to
	// the kind its first argument names.
	Commands map[string]string
	// Flags maps a flag to the kind of object it names.
	Flags map[string]string
	// Names lists the objects of a kind, for the command being completed.
	Names func(c *cobra.Command, kind string) ([]string, error)
}

// Wire gives every command under root that takes names a completion of
// them (its first argument), and the flags that name objects theirs.
func (cp Completion) Wire(root *cobra.Command) {
	for _, sub := range root.Commands() {
		cp.Wire(sub)
	}
	if root.ValidArgsFunction == nil {
		if kind := cp.argKind(root); kind != "" {
			f := cp.names(kind)
			root.ValidArgsFunction = func(c *cobra.Command, a []string, prefix string) ([]string, cobra.ShellCompDirective) {
				if len(a) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return f(c, a, prefix)
			}
		}
	}
	for flag, kind := range cp.Flags {
		if root.Flags().Lookup(flag) != nil {
			root.RegisterFlagCompletionFunc(flag, cp.names(kind))
		}
	}
}

// names completes the names of kind that start with the prefix typed:
// shell completion offers what exists, not files.
func (cp Completion) names(kind string) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		all, err := cp.Names(c, kind)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range all {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// argKind is what a command's first argument names, from its use line.
func (cp Completion) argKind(c *cobra.Command) string {
	use := strings.Fields(c.Use)
	if len(use) < 2 || !strings.Contains(use[1], "NAME") && !strings.Contains(use[1], "KEY") && !strings.Contains(use[1], "SYS") {
		return ""
	}
	if p := c.Parent(); p != nil {
		if kind, ok := cp.Groups[p.Name()]; ok {
			return kind
		}
	}
	return cp.Commands[c.Name()]
}
