package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/textsafe"
)

func newInspect() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME",
		Short: "Boot a system into the inventory agent once, to refresh its inventory",
		Long: `Boot a system into the inventory agent once: its next network boot runs the
agent (its BMC powers it there when it has one), which reports the
hardware again; what changed (a replaced disk, a moved cable) is recorded
in its history (provision history NAME), and the system then boots what
it did before.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			res, err := client(c).Inspect(ctx(c), a[0])
			if err != nil {
				return err
			}
			confirm(c, "system %s: its next network boot runs the inventory agent", res.System)
			switch {
			case res.Power != "":
				confirm(c, "  its BMC was told: %s", res.Power)
			case res.PowerError != "":
				fmt.Fprintf(c.ErrOrStderr(), "provision: system %s: not powered: %s\n", res.System, textsafe.Strip(res.PowerError))
			}
			return nil
		},
	}
}

func newInventory() *cobra.Command {
	c := &cobra.Command{
		Use:   "inventory NAME [--json]",
		Short: "Show a system's hardware inventory, as its agent last reported it",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := client(c).SystemInventory(ctx(c), a[0])
			if err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), m)
			}
			return printMachine(c.OutOrStdout(), m)
		},
	}
	c.Flags().Bool("json", false, "print JSON")
	return c
}
