package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
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
			if err := os.MkdirAll(a[0], 0o755); err != nil {
				return err
			}
			root := c.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "PROVISION", Section: "1", Source: "provision " + version, Manual: "provision manual"}
			if err := doc.GenManTree(root, hdr, a[0]); err != nil {
				return fmt.Errorf("docs: %w", err)
			}
			return nil
		},
	}
}
