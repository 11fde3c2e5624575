package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newSetting() *cobra.Command {
	c := &cobra.Command{
		Use:   "setting",
		Short: "Manage global settings (published as DNS TXT records)",
		Long: `Global settings are KEY=VALUE pairs such as lvs.vrid=100. Keys are
dot-separated DNS labels (case-insensitive), values at most 64,000 bytes (what one DNS answer carries).

Settings are public: anyone who can query the appliance's DNS or fetch
/zone/data.cdb reads them, as machines must at boot. Keep secrets out of
them: a key whose name has password, passwd, secret or token is refused
unless --public says it holds none.`,
	}
	set := &cobra.Command{
		Use: "set KEY VALUE [--public]", Short: "Set a setting (published in DNS and data.cdb)", Args: args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			body := map[string]string{"value": a[1]}
			var out, cur registry.Setting
			cl := client(c)
			if err := cl.Do(ctx(c), "GET", api.Path("settings", a[0]), nil, &cur); err == nil && cur.Value == a[1] {
				fmt.Fprintln(c.ErrOrStderr(), "setting "+cur.Key+": no change")
				return nil
			}
			if err := cl.Do(ctx(c), "PUT", api.Path("settings", a[0])+publicQuery(c), body, &out); err != nil {
				return err
			}
			confirm(c, "setting %s set", out.Key)
			return nil
		},
	}
	publicFlag(set)
	get := &cobra.Command{
		Use: "get KEY", Short: "Print a setting's value", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var s registry.Setting
			if err := client(c).Do(ctx(c), "GET", api.Path("settings", a[0]), nil, &s); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), s.Value)
			return nil
		},
	}
	unset := &cobra.Command{
		Use: "unset KEY", Short: "Remove a setting", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if err := client(c).Do(ctx(c), "DELETE", api.Path("settings", a[0]), nil, nil); err != nil {
				return err
			}
			confirm(c, "setting %s unset", a[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use: "list [--json]", Short: "List settings", Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			var items []registry.Setting
			if err := client(c).Do(ctx(c), "GET", api.Path("settings"), nil, &items); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), items)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, s := range items {
				row(tw, s.Key, s.Value)
			}
			return tw.Flush()
		},
	}
	list.Flags().Bool("json", false, "print JSON")
	c.AddCommand(set, get, unset, list)
	return c
}

// publicFlag adds --public: the secret-looking setting keys given hold no
// secret (settings are published to anyone).
func publicFlag(c *cobra.Command) {
	c.Flags().Bool("public", false, "a key named like a secret (password, secret, token) holds none: settings are published in DNS and data.cdb")
}

// publicQuery is "?public=1" when --public is given.
func publicQuery(c *cobra.Command) string {
	if p, _ := c.Flags().GetBool("public"); p {
		return "?public=1"
	}
	return ""
}
