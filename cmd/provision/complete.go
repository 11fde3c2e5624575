package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
)

// completeNames completes the names of one kind of object (systems,
// profiles, ...) from the server: shell completion offers what exists,
// not files.
func completeNames(plural string) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var items []struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		}
		ctx := c.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		var raw json.RawMessage
		if err := client(c).Do(ctx, "GET", api.Path(plural), nil, &raw); err != nil {
			return nil, cobra.ShellCompDirectiveError | cobra.ShellCompDirectiveNoFileComp
		}
		json.Unmarshal(raw, &items)
		var out []string
		for _, it := range items {
			n := it.Name
			if n == "" {
				n = it.Key
			}
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// firstArg completes only the first argument with f.
func firstArg(f cobra.CompletionFunc) cobra.CompletionFunc {
	return func(c *cobra.Command, a []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(a) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return f(c, a, prefix)
	}
}

// kindOf maps a command group to the objects its NAME arguments name.
var kindOf = map[string]string{"subnet": "subnets", "image": "images", "profile": "profiles", "system": "systems", "template": "templates", "setting": "settings"}

// flagKinds maps flags to the objects they name.
var flagKinds = map[string]string{"profile": "profiles", "image": "images", "subnet": "subnets", "kickstart": "templates", "system": "systems"}

// wireCompletion gives every command that takes names a completion of
// them, and the flags that name objects theirs.
func wireCompletion(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.ValidArgsFunction == nil {
			if plural := argKind(c); plural != "" {
				c.ValidArgsFunction = firstArg(completeNames(plural))
			}
		}
		for flag, plural := range flagKinds {
			if c.Flags().Lookup(flag) != nil {
				c.RegisterFlagCompletionFunc(flag, completeNames(plural))
			}
		}
	}
	walk(root)
}

// argKind is what a command's first argument names, from its use line.
func argKind(c *cobra.Command) string {
	use := strings.Fields(c.Use)
	if len(use) < 2 || !strings.Contains(use[1], "NAME") && !strings.Contains(use[1], "KEY") && !strings.Contains(use[1], "SYS") {
		return ""
	}
	if p := c.Parent(); p != nil {
		if plural, ok := kindOf[p.Name()]; ok {
			return plural
		}
	}
	switch c.Name() {
	case "power", "history":
		return "systems"
	}
	return ""
}
