package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/registry"
)

// client builds the API client from --server, --ca and $PROVISION_TOKEN,
// else what provision login saved, else a data directory's token file
// (api.FindToken). The token is never taken from argv, where other users
// could read it.
func client(c *cobra.Command) *api.Client { return clientWaiting(c, api.AnswerTimeout) }

// clientWaiting is client for a request the server may take long to
// answer (a boot environment build): it waits at least least, or what
// --answer-timeout says.
func clientWaiting(c *cobra.Command, least time.Duration) *api.Client {
	var o api.ClientOptions
	if c.Flags().Changed("server") {
		o.Server, _ = c.Flags().GetString("server")
	}
	if c.Flags().Changed("ca") {
		o.CA, _ = c.Flags().GetString("ca")
	}
	o.Answer, _ = c.Flags().GetDuration("answer-timeout")
	if !c.Flags().Changed("answer-timeout") {
		o.Answer = max(o.Answer, least)
	}
	cl := api.NewClient(o)
	if errors.Is(cl.Err, api.ErrClientOptions) {
		cl.Err = usage(cl.Err)
	}
	return cl
}

func ctx(c *cobra.Command) context.Context { return c.Context() }

// edited confirms an edit: the fields it changed, or on stderr that it
// changed nothing (and sent nothing). A rename says so.
func edited(c *cobra.Command, what string, fields []string, err error) error {
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		fmt.Fprintln(c.ErrOrStderr(), what+": no change")
		return nil
	}
	if to, _ := c.Flags().GetString("rename"); c.Flags().Changed("rename") {
		confirm(c, "%s renamed to %s (%s)", what, to, strings.Join(fields, ", "))
		return nil
	}
	confirm(c, "%s changed (%s)", what, strings.Join(fields, ", "))
	return nil
}

// confirm prints the one line that says what a change did, unless -q.
func confirm(c *cobra.Command, format string, a ...any) {
	if q, _ := c.Flags().GetBool("quiet"); !q {
		fmt.Fprintf(c.OutOrStdout(), format+"\n", a...)
	}
}

// kindCmds adds list, show and remove for one kind of object.
func kindCmds(parent *cobra.Command, kind, plural string, table func(w io.Writer, items []json.RawMessage, wide bool)) {
	list := &cobra.Command{
		Use: "list [-o table|wide|json|yaml]", Short: "List " + plural, Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if d := c.Flags().Lookup("discovered"); d != nil && d.Changed {
				return listDiscovered(c)
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			q := url.Values{}
			for _, f := range []string{"profile", "subnet", "state"} {
				if v, _ := c.Flags().GetString(f); c.Flags().Lookup(f) != nil && v != "" {
					q.Set(f, v)
				}
			}
			path := api.Path(plural)
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			var items []json.RawMessage
			if err := client(c).Do(ctx(c), "GET", path, nil, &items); err != nil {
				return err
			}
			switch format {
			case "json":
				return printJSON(c.OutOrStdout(), items)
			case "yaml":
				b, _ := json.Marshal(items)
				return human.YAML(c.OutOrStdout(), b)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			table(tw, items, format == "wide")
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use: "show NAME [--json]", Short: "Show one " + kind + ", name first", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var item json.RawMessage
			if err := client(c).Do(ctx(c), "GET", api.Path(plural, a[0]), nil, &item); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), item)
			}
			return human.YAML(c.OutOrStdout(), item)
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove " + article(kind) + " " + kind, Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if err := client(c).Do(ctx(c), "DELETE", api.Path(plural, a[0]), nil, nil); err != nil {
				return err
			}
			confirm(c, "%s %s removed", kind, a[0])
			return nil
		},
	}
	for _, sub := range []*cobra.Command{list, show} {
		sub.Flags().Bool("json", false, "print JSON (-o json)")
	}
	list.Flags().StringP("output", "o", "table", "table, wide (more columns), json or yaml")
	list.Example = fmt.Sprintf("  provision %s list\n  provision %s list -o wide\n  provision %s list -o json | jq -r '.[].name'", kind, kind, kind)
	show.Example = fmt.Sprintf("  provision %s show NAME\n  provision %s show NAME --json", kind, kind)
	remove.Example = fmt.Sprintf("  provision %s remove NAME", kind)
	if kind == "system" {
		list.Use = "list [--profile P] [--subnet S] [--state STATE] [-o table|wide|json|yaml] | list --discovered"
		list.Flags().Bool("discovered", false, "list unknown machines that took a pool lease instead")
		list.Flags().String("profile", "", "only the systems of this profile")
		list.Flags().String("subnet", "", "only the systems whose IP lies in this subnet")
		list.Flags().String("state", "", "only the systems in this state: "+strings.Join(registry.Statuses, ", "))
		list.Example += "\n  provision system list --profile centos-web --state installed\n  provision system list --subnet lan -o wide"
	}
	parent.AddCommand(list, show, remove)
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if strings.ContainsRune("aeio", rune(word[0])) || word[0] == 'u' && !strings.HasPrefix(word, "us") { // a user
		return "an"
	}
	return "a"
}

// outputFormat is -o (or --json): table, wide, json or yaml.
func outputFormat(c *cobra.Command) (string, error) {
	if asJSON(c) {
		return "json", nil
	}
	o, _ := c.Flags().GetString("output")
	switch o {
	case "table", "wide", "json", "yaml":
		return o, nil
	}
	return "", usage(fmt.Errorf("-o %q: want table, wide, json or yaml", o))
}

func asJSON(c *cobra.Command) bool {
	v, _ := c.Flags().GetBool("json")
	return v
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// row prints one tab-separated table row.
// row writes one line of a table. A cell may hold text that came from the
// network (a discovered machine's DHCP hostname): control characters are
// stripped, so none reaches the terminal and each row stays one line.
func row(w io.Writer, cols ...string) {
	safe := make([]string, len(cols))
	for i, c := range cols {
		safe[i] = textsafe.Strip(c)
	}
	fmt.Fprintln(w, strings.Join(safe, "\t"))
}

// parseSets turns KEY=VALUE flags into a map.
func parseSets(sets []string) (map[string]string, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usage(fmt.Errorf("--set %q: use KEY=VALUE", s))
		}
		m[k] = v
	}
	return m, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
