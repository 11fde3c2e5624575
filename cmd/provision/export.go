package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newExport() *cobra.Command {
	c := &cobra.Command{
		Use:   "export [-o FILE] [--with-secrets]",
		Short: "Write the whole registry as YAML",
		Long: `Write the whole registry as YAML, objects sorted by name, so that two
exports of the same registry are identical. BMC passwords are left out unless
--with-secrets is given (which needs the API token). Image files are not
included: copy DATA/images along with the export.`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			path := api.Path("export")
			if s, _ := c.Flags().GetBool("with-secrets"); s {
				path += "?secrets=1"
			}
			var buf bytes.Buffer
			if err := client(c).Raw(ctx(c), "GET", path, "", nil, -1, &buf); err != nil {
				return err
			}
			out, _ := c.Flags().GetString("output")
			if out == "" || out == "-" {
				_, err := c.OutOrStdout().Write(buf.Bytes())
				return err
			}
			return writeFileAtomicMode(out, buf.Bytes(), 0o600) // an export may hold secrets
		},
	}
	c.Flags().StringP("output", "o", "", "write to FILE instead of standard output")
	c.Flags().Bool("with-secrets", false, "include BMC passwords")
	return c
}

func newImport() *cobra.Command {
	c := &cobra.Command{
		Use:   "import FILE [--dry-run]",
		Short: "Apply a YAML registry file, all or nothing",
		Long: `Apply a file written by "provision export": objects that do not exist are
added, objects that differ are replaced, nothing is removed. Every conflict
is reported before anything is written; if there is one, nothing is written.
With --dry-run nothing is written at all. FILE - reads standard input.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			data, err := readInput(c, a[0])
			if err != nil {
				return err
			}
			path := api.Path("import")
			dry, _ := c.Flags().GetBool("dry-run")
			if dry {
				path += "?dry_run=1"
			}
			var rep registry.ImportReport
			if err := client(c).Raw(ctx(c), "POST", path, "application/yaml", bytes.NewReader(data), int64(len(data)), &rep); err != nil {
				return err
			}
			verb := "imported"
			if dry {
				verb = "would import"
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %d added, %d changed, %d unchanged\n", verb, len(rep.Added), len(rep.Changed), rep.Unchanged)
			for _, x := range rep.Added {
				fmt.Fprintln(c.OutOrStdout(), "  + "+x)
			}
			for _, x := range rep.Changed {
				fmt.Fprintln(c.OutOrStdout(), "  ~ "+x)
			}
			return nil
		},
	}
	c.Flags().Bool("dry-run", false, "check and report, write nothing")
	return c
}

func readInput(c *cobra.Command, path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(c.InOrStdin())
	}
	return os.ReadFile(path)
}

func note(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}
