package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/ipmi"
)

func newPower() *cobra.Command {
	c := &cobra.Command{
		Use:   "power NAME status|" + strings.Join(ipmi.Actions, "|") + " | power status --all [--fresh] [--json]",
		Short: "A system's power through its BMC (IPMI or Redfish)",
		Long: `Show a system's power state, or power it on, off (hard), soft (ACPI
shutdown), cycle or reset through its BMC. "power status" answers what the
appliance's last poll of the BMC found (serve --power-poll); with --fresh
it asks the BMC now, which takes the admin token. "power status --all"
prints one line for every system with a BMC: the state, or the error
(--fresh: every BMC is asked at once, 32 at a time). Every call to a BMC
has a 10 s deadline; an error names the system and the BMC.`,
		Args: args(cobra.RangeArgs(1, 2)),
		RunE: func(c *cobra.Command, a []string) error {
			cl := client(c)
			if all, _ := c.Flags().GetBool("all"); all {
				if len(a) != 1 || a[0] != "status" {
					return usage(fmt.Errorf("--all goes with status alone: provision power status --all"))
				}
				var out []api.PowerResult
				if err := cl.Do(ctx(c), "GET", api.Path("power")+fresh(c), nil, &out); err != nil {
					return err
				}
				if asJSON(c) {
					return printJSON(c.OutOrStdout(), out)
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
				row(tw, "SYSTEM", "BMC", "POWER")
				for _, r := range out {
					row(tw, r.System, r.BMC, or(r.State, "error: "+r.Error))
				}
				return tw.Flush()
			}
			if len(a) != 2 {
				return usage(fmt.Errorf("want NAME and status|%s", strings.Join(ipmi.Actions, "|")))
			}
			var res api.PowerResult
			var err error
			if a[1] == "status" {
				err = cl.Do(ctx(c), "GET", api.Path("systems", a[0], "power")+fresh(c), nil, &res)
			} else {
				err = cl.Do(ctx(c), "POST", api.Path("systems", a[0], "power"), map[string]string{"action": a[1]}, &res)
			}
			if err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), res)
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %s\n", res.System, or(res.State, res.Error))
			return nil
		},
	}
	c.Flags().Bool("all", false, "with status: every system that has a BMC")
	c.Flags().Bool("fresh", false, "with status: ask the BMC now rather than read the last poll (admin token)")
	c.Flags().Bool("json", false, "print JSON")
	return c
}

// fresh is the query that asks BMCs now, when --fresh is given.
func fresh(c *cobra.Command) string {
	if f, _ := c.Flags().GetBool("fresh"); f {
		return "?fresh=1"
	}
	return ""
}
