package main

import (
	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/cliutil"
)

// newDocs writes the manual pages that the package installs; it is
// hidden: the pages are made from the --help texts at build time.
func newDocs() *cobra.Command {
	return &cobra.Command{
		Use:    "docs DIR",
		Short:  "Write a manual page for every command into DIR",
		Hidden: true,
		Args:   args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			return cliutil.ManPages(c.Root(), a[0], "PROVISION", "provision "+version)
		},
	}
}
