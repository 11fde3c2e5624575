package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/textsafe"
)

func newSystemReport() *cobra.Command {
	c := &cobra.Command{
		Use:   "report NAME [--json]",
		Short: "Show a system's merged view: state, what it boots, effective settings and their sources, last boot",
		Long: `Show everything that decides how a system boots, merged: its state, its
profile, image and template, the kernel arguments it gets (the profile's,
then its own), the boot URL, its BMC, its network interfaces (see system
interface list), the effective settings with where each
comes from (global, profile or system: the most specific wins, as zonecfg
reads them), and the timeline of its last boot or build.`,
		Example: `  provision system report web001
  provision system report web001 --json | jq -r '.settings[] | "\(.key)=\(.value)"'`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var rep api.Report
			if err := client(c).Do(ctx(c), "GET", api.Path("systems", a[0], "report"), nil, &rep); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), rep)
			}
			sys := rep.System
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			field := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
			field("system", sys.Name)
			field("state", sys.Status+" since "+localTime(sys.StatusSince))
			if sys.Deadline != "" {
				field("build deadline", localTime(sys.Deadline))
			}
			field("hostname", sys.Hostname)
			field("ip", sys.IP)
			field("macs", fmt.Sprint(sys.MACs))
			field("profile", sys.Profile)
			field("image", or(rep.Image, "-")+" ("+or(rep.ImageKind, "?")+")")
			field("template", or(rep.Template, "- (diskless)"))
			field("loader", rep.Loader)
			field("netboot", fmt.Sprint(sys.Netboot))
			field("kernel args", or(rep.KernelArgs, "-"))
			field("boot", or(rep.Boot, "-"))
			if rep.CmdlineError != "" {
				field("cmdline", "refused: "+rep.CmdlineError)
			} else {
				field("cmdline", or(rep.Cmdline, "-"))
			}
			field("boot url", or(rep.BootURL, "-"))
			if b := sys.BMC; b != nil {
				pw := "no password"
				if b.PasswordSet {
					pw = "password set"
				}
				switch {
				case b.Fingerprint != "":
					pw += ", certificate pinned sha256:" + b.Fingerprint
				case b.Insecure:
					pw += ", certificate not checked"
				}
				field("bmc", fmt.Sprintf("%s (%s, user %s, %s)", b.Address, or(b.Provider, "ipmi"), or(b.User, "-"), pw))
			} else {
				field("bmc", "-")
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintln(w, "interfaces:")
			if err := ifaceTable(w, "  ", rep.Interfaces); err != nil {
				return err
			}
			fmt.Fprintln(w, "settings:")
			tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, s := range rep.Settings {
				if s.Secret {
					s.Value = "(secret)"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Key, printableValue(s.Value), s.From)
			}
			if len(rep.Settings) == 0 {
				fmt.Fprintln(tw, "  (none)")
			}
			tw.Flush()
			fmt.Fprintln(w, "last boot:")
			if len(rep.LastBoot) == 0 {
				fmt.Fprintln(w, "  no boot seen yet")
			}
			for _, e := range rep.LastBoot {
				fmt.Fprintf(w, "  %s  %-7s %s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), textsafe.Strip(e.Kind), textsafe.Strip(e.Detail))
			}
			return nil
		},
	}
	c.Flags().Bool("json", false, "print JSON")
	return c
}

// printableValue shows a long or multi-line value on one line.
func printableValue(v string) string {
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	q := strconv.Quote(v)
	return q[1 : len(q)-1]
}
