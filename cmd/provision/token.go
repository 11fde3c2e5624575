package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/apitoken"
)

func newToken() *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage the API tokens: users' tokens, and the two token files",
		Long: `Users' tokens (create, list, revoke) are made for a user and carry the
user's role and scopes; the appliance keeps only their hashes. The two token
files, DATA/token (admin) and DATA/token-read-only (viewer), are the
break-glass credentials: rotate replaces one.`}
	rotate := &cobra.Command{
		Use:   "rotate [--read-only] [--data DIR]",
		Short: "Replace the admin token (or the read-only one) with a new random one",
		Long: `Replace the admin token, DATA/token, or with --read-only the read-only token,
DATA/token-read-only, with a new random one. It runs on the appliance, on its
data directory (it needs no running server and no token): the running
appliance takes the new token at its next request and refuses the old one
from then on. The token is not printed; read it from the file (mode 0600).`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			data, _ := c.Flags().GetString("data")
			name := apitoken.Admin
			if ro, _ := c.Flags().GetBool("read-only"); ro {
				name = apitoken.ReadOnly
			}
			path, err := apitoken.Rotate(data, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s token rotated: the new one is in %s; the old one no longer works\n", name, path)
			return nil
		},
	}
	rotate.Flags().Bool("read-only", false, "rotate the read-only token")
	rotate.Flags().String("data", "/var/lib/provision", "the appliance's data directory (./provision-data for the dev server)")
	c.AddCommand(rotate)
	c.AddCommand(tokenUserCmds()...)
	return c
}
