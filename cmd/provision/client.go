package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/tlscert"
)

// client builds the API client from --server, --ca and $PROVISION_TOKEN.
// The token is never taken from argv, where other users could read it.
func client(c *cobra.Command) *api.Client { return clientWaiting(c, api.AnswerTimeout) }

// clientWaiting is client for a request the server may take long to
// answer (a boot environment build): it waits at least least, or what
// --answer-timeout says.
func clientWaiting(c *cobra.Command, least time.Duration) *api.Client {
	server, _ := c.Flags().GetString("server")
	answer, _ := c.Flags().GetDuration("answer-timeout")
	if !c.Flags().Changed("answer-timeout") {
		answer = max(answer, least)
	}
	if answer <= 0 {
		answer = api.AnswerTimeout
	}
	ca, _ := c.Flags().GetString("ca")
	cl := &api.Client{BaseURL: server, Token: os.Getenv("PROVISION_TOKEN")}
	tc, err := tlscert.ClientConfig(ca)
	if err != nil {
		// Every request fails with it, naming the --ca value.
		cl.Err = err
	}
	cl.HTTP = api.NewHTTPClient(answer, tc)
	return cl
}

func ctx(c *cobra.Command) context.Context { return c.Context() }

// noChange says on stderr that an edit changed nothing (and sent nothing).
func noChange(c *cobra.Command, what string, changed bool, err error) error {
	if err == nil && !changed {
		fmt.Fprintln(c.ErrOrStderr(), what+": no change")
	}
	return err
}

// kindCmds adds list, show and remove for one kind of object.
func kindCmds(parent *cobra.Command, kind, plural string, table func(io.Writer, []json.RawMessage)) {
	list := &cobra.Command{
		Use: "list", Short: "List " + plural, Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if d := c.Flags().Lookup("discovered"); d != nil && d.Changed {
				return listDiscovered(c)
			}
			var items []json.RawMessage
			if err := client(c).Do(ctx(c), "GET", api.Path(plural), nil, &items); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), items)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			table(tw, items)
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use: "show NAME", Short: "Show one " + kind, Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var item json.RawMessage
			if err := client(c).Do(ctx(c), "GET", api.Path(plural, a[0]), nil, &item); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), item)
			}
			return printYAML(c.OutOrStdout(), item)
		},
	}
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a " + kind, Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			return client(c).Do(ctx(c), "DELETE", api.Path(plural, a[0]), nil, nil)
		},
	}
	for _, sub := range []*cobra.Command{list, show} {
		sub.Flags().Bool("json", false, "print JSON")
	}
	if kind == "system" {
		list.Flags().Bool("discovered", false, "list unknown machines that took a pool lease instead")
	}
	parent.AddCommand(list, show, remove)
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

// printYAML shows a JSON object as YAML, for people.
func printYAML(w io.Writer, raw json.RawMessage) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // sizes stay integers, not 1.0258736e+07
	if err := dec.Decode(&v); err != nil {
		return err
	}
	out, err := yaml.Marshal(numbers(v))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// numbers turns the json.Numbers in v into int64 or float64, which yaml
// writes as numbers.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// row prints one tab-separated table row.
func row(w io.Writer, cols ...string) {
	fmt.Fprintln(w, strings.Join(cols, "\t"))
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
			return nil, usageError{fmt.Errorf("--set %q: use KEY=VALUE", s)}
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
