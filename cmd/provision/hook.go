package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newHook() *cobra.Command {
	c := &cobra.Command{Use: "hook", Short: "Webhooks: the appliance POSTs its events to other tools",
		Long: `A hook receives the events it names as signed JSON POSTs: system.added,
system.changed, system.removed, build.started, build.installed,
build.failed, power, booted, discovered, accepted, or all. Delivery is at
least once and durable: each event is kept in the registry with the change
it reports, retried with exponential backoff (1 s up to 1 h, jittered) for
a day, in order per system, then dead (hook deliveries lists it). With
--secret-file, each body is signed: X-Provision-Signature: sha256=HEX, the
HMAC-SHA256 of the body with the secret, as GitHub signs its webhooks.
docs/webhooks.md shows the body and a receiver.`}
	add := &cobra.Command{
		Use:   "add NAME --url URL --events E,E... [--secret-file F] [--system-filter GLOB]",
		Short: "Add a hook",
		Args:  args(cobra.ExactArgs(1)),
		RunE:  addHook,
	}
	f := add.Flags()
	f.String("url", "", "where to POST the events (http:// or https://)")
	f.StringSlice("events", nil, "the events to send, comma-separated: "+strings.Join(registry.HookEvents, ", "))
	f.String("secret-file", "", "a file holding the secret that signs each body (its first line)")
	f.String("system-filter", "", `only the events of systems whose name matches this glob (e.g. "web*")`)
	add.MarkFlagRequired("url")
	add.MarkFlagRequired("events")
	test := &cobra.Command{
		Use:   "test NAME",
		Short: "POST a signed test event to a hook now, and say how the receiver answered",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			out, err := client(c).TestHook(ctx(c), a[0])
			if err != nil {
				return err
			}
			confirm(c, "hook %s: %s took the test event in %d ms", out.Hook, out.URL, out.Millis)
			return nil
		},
	}
	c.AddCommand(add, test, newHookDeliveries())
	kindCmds(c, "hook", "hooks", hookTable)
	return c
}

func addHook(c *cobra.Command, a []string) error {
	in := api.HookInput{Name: a[0]}
	f := c.Flags()
	in.URL, _ = f.GetString("url")
	in.Events, _ = f.GetStringSlice("events")
	in.SystemFilter, _ = f.GetString("system-filter")
	if path, _ := f.GetString("secret-file"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("--secret-file: %w", err)
		}
		in.Secret, _, _ = strings.Cut(string(b), "\n")
		if in.Secret = strings.TrimSpace(in.Secret); in.Secret == "" {
			return usage(fmt.Errorf("--secret-file %s: the file is empty", path))
		}
	}
	out, err := client(c).AddHook(ctx(c), in)
	if err != nil {
		return err
	}
	signed := "unsigned"
	if out.SecretSet {
		signed = "signed"
	}
	confirm(c, "hook %s added: %s gets %s (%s)", out.Name, out.URL, strings.Join(out.Events, ", "), signed)
	return nil
}

func hookTable(w io.Writer, items []json.RawMessage, wide bool) {
	row(w, "NAME", "URL", "EVENTS", "SYSTEMS", "SIGNED")
	for _, raw := range items {
		var x registry.Hook
		json.Unmarshal(raw, &x)
		row(w, x.Name, x.URL, strings.Join(x.Events, ","), or(x.SystemFilter, "*"), yesNo(x.SecretSet))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newHookDeliveries() *cobra.Command {
	c := &cobra.Command{
		Use:   "deliveries NAME [--limit N] [--json]",
		Short: "List a hook's last deliveries, newest first: state, tries, next try, last error",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			limit, _ := c.Flags().GetInt("limit")
			out, err := client(c).HookDeliveries(ctx(c), a[0], limit)
			if err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			deliveryTable(tw, out)
			return tw.Flush()
		},
	}
	c.Flags().Int("limit", 100, "how many (at most 1000)")
	c.Flags().Bool("json", false, "print JSON")
	return c
}

func deliveryTable(w io.Writer, ds []registry.Delivery) {
	row(w, "ID", "EVENT", "SYSTEM", "AT", "STATE", "TRIES", "NEXT", "LAST-ERROR")
	for _, d := range ds {
		next := "-"
		if d.State == registry.DeliveryPending {
			next = d.NextAt.Local().Format(time.DateTime)
		}
		row(w, fmt.Sprint(d.ID), d.Event, or(d.System, "-"), d.At.Local().Format(time.DateTime), d.State, fmt.Sprint(d.Attempts), next, or(d.LastError, "-"))
	}
}
