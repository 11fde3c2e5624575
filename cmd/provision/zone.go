package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/dnsconf/tinydns"
)

func newZone() *cobra.Command {
	c := &cobra.Command{Use: "zone", Short: "The internal DNS zone: tinydns data files and data.cdb"}
	c.AddCommand(newZoneCompile(), newZoneExport(), newZoneImport())
	return c
}

func newZoneCompile() *cobra.Command {
	c := &cobra.Command{
		Use:   "compile [--serial N] DATA OUT",
		Short: "Compile a tinydns-data `data` file into data.cdb, as djbdns 1.05 tinydns-data does",
		Long: `Compile a tinydns-data "data" file into a data.cdb byte-identical to the one
djbdns 1.05 tinydns-data writes. The SOA serial of "." lines is --serial, or,
as tinydns-data does, the modification time of DATA. OUT is written through
a temporary file and renamed, so an error leaves an old OUT untouched.
This runs locally; it needs no server.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			serial, err := compileSerial(c, a[0])
			if err != nil {
				return err
			}
			in, err := os.Open(a[0])
			if err != nil {
				return err
			}
			defer in.Close()
			var out bytes.Buffer
			if err := tinydns.Compile(in, serial, &out); err != nil {
				return err
			}
			return writeFileAtomicMode(a[1], out.Bytes(), 0o644)
		},
	}
	c.Flags().String("serial", "", "SOA serial for . lines (default: DATA's modification time)")
	return c
}

func compileSerial(c *cobra.Command, data string) (uint32, error) {
	if s, _ := c.Flags().GetString("serial"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, usage(fmt.Errorf("--serial %q: a number from 0 to 4294967295", s))
		}
		return uint32(n), nil
	}
	st, err := os.Stat(data)
	if err != nil {
		return 0, err
	}
	return uint32(st.ModTime().Unix()), nil
}

func newZoneImport() *cobra.Command {
	c := &cobra.Command{
		Use:   "import DATA [--replace]",
		Short: "Add the records of a tinydns data file as static records",
		Long: `Add the records of a tinydns "data" file that the registry does not own as
static records of the zone. The SOA and NS of the zone itself are skipped
(the appliance owns them). Records at names the registry publishes (a
system, its settings, a global setting), records outside the zone and its
reverse zones, wildcards, client locations and timestamps are refused:
every problem is listed and nothing is written. With --replace, static
records not in DATA are removed.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			f, err := os.Open(a[0])
			if err != nil {
				return err
			}
			rrs, skipped, err := tinydns.StaticRecords(f)
			f.Close()
			if err != nil {
				return err
			}
			replace, _ := c.Flags().GetBool("replace")
			var out api.RecordsAdded
			if err := client(c).Do(ctx(c), "POST", api.Path("records"), api.RecordsInput{Records: rrs, Replace: replace}, &out); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%d records added, %d already there, %d skipped (SOA/NS of the zone)\n", len(out.Added), len(rrs)-len(out.Added), skipped)
			return nil
		},
	}
	c.Flags().Bool("replace", false, "remove static records not in DATA")
	return c
}

// writeFileAtomicMode writes through a temporary file in the same
// directory, then renames it over path.
func writeFileAtomicMode(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
