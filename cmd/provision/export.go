package main

import (
	"bufio"
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
		Use:   "import FILE [--dry-run] | import --from cobbler DIR [--dry-run] [--skip-conflicts] [--root DIR]",
		Short: "Apply a YAML registry file, or a Cobbler server's objects, all or nothing",
		Long: `Apply a file written by "provision export": objects that do not exist are
added, objects that differ are replaced, nothing is removed. Every conflict
is reported before anything is written; if there is one, nothing is written.
With --dry-run nothing is written at all. FILE - reads standard input.

With --from cobbler, DIR is a Cobbler 3 server's /var/lib/cobbler (or a copy,
or its collections directory, or one JSON file of systems): its distros
become install images (their kernel and initrd uploaded), its profiles
profiles (parents and kernel options resolved, a plain autoinstall file a
template), its systems systems, and the networks of their addresses subnets
where the registry has none. --root DIR is where the Cobbler server's files
are (its absolute paths are read under DIR). The plan is printed: every
conflict (duplicate IPs or MACs, invalid addresses, names and addresses the
registry already gives to others, missing files), what needs review
(Cheetah templates) and what is not carried over. Any conflict means
nothing is written; --skip-conflicts leaves out the objects in conflicts
(and what depends on them) and imports the rest. The import itself is one
all-or-nothing import of the plan, which the appliance checks again.`,
		Example: `  provision import registry.yaml --dry-run
  provision import registry.yaml
  provision import --from cobbler /var/lib/cobbler --dry-run
  provision import --from cobbler ./cobbler-copy/var/lib/cobbler --root ./cobbler-copy --skip-conflicts`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if c.Flags().Changed("from") {
				return importCobbler(c, a[0])
			}
			if c.Flags().Changed("skip-conflicts") || c.Flags().Changed("root") {
				return usage(fmt.Errorf("--skip-conflicts and --root go with --from cobbler"))
			}
			data, err := readInput(c, a[0])
			if err != nil {
				return err
			}
			dry, _ := c.Flags().GetBool("dry-run")
			rep, err := client(c).Import(ctx(c), data, dry)
			if err != nil {
				return err
			}
			printImport(c.OutOrStdout(), dry, rep, true)
			return nil
		},
	}
	c.Flags().Bool("dry-run", false, "check and report, write nothing")
	c.Flags().String("from", "", "import another tool's data: cobbler")
	c.Flags().Bool("skip-conflicts", false, "with --from: leave out the objects in conflicts, import the rest")
	c.Flags().String("root", "", "with --from: where the other server's files are (its absolute paths are read under DIR)")
	return c
}

// printImport says what an import did; each object too with objects.
func printImport(out io.Writer, dry bool, rep *registry.ImportReport, objects bool) {
	w := bufio.NewWriter(out) // a line per object: not a write each (100,000 for a fleet)
	defer w.Flush()
	verb := "imported"
	if dry {
		verb = "would import"
	}
	fmt.Fprintf(w, "%s: %d added, %d changed, %d unchanged\n", verb, len(rep.Added), len(rep.Changed), rep.Unchanged)
	if !objects {
		return
	}
	for _, x := range rep.Added {
		fmt.Fprintln(w, "  + "+x)
	}
	for _, x := range rep.Changed {
		fmt.Fprintln(w, "  ~ "+x)
	}
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
