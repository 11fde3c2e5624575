package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/provision/provision/internal/buildinfo"
)

// version and commit are set at build time (-ldflags "-X main.version=1.2.3
// -X main.commit=abc123"); see package buildinfo.
var version, commit = "", ""

// versionString is "provision VERSION (commit C, DATE, GOVERSION)".
func versionString() string { return buildinfo.String("provision", version, commit) }

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use: "version", Short: "Print the version, commit and Go version", Args: args(cobra.NoArgs),
		Example: "  provision version\n  provision --version",
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), versionString())
			return nil
		},
	}
}
