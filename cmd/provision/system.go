package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/registry"
)

func newSystem() *cobra.Command {
	c := &cobra.Command{Use: "system", Short: "Manage systems (machines)"}
	add := &cobra.Command{
		Use: "add NAME --mac MAC --ip IP --profile NAME [--hostname FQDN] [--netboot=true|false]\n" +
			"    [--set KEY=VALUE]... [--set-secret KEY=VALUE]... [--bmc-address IP --bmc-user USER --bmc-password-env VAR]",
		Short: "Register a system",
		Long: `Register a system. It starts pending (its next network boot installs it)
when its profile has an install template, else diskless. The registry refuses an IP, MAC (in any spelling), name or
hostname that another system uses, an IP outside every subnet, on a subnet's
network, broadcast or gateway address or inside its dynamic pool, and an IP
that is some system's BMC address. The error names the other object.
Each --mac is a NIC, eth0, eth1...; eth0 carries the IP (bonds, VLANs
and extra addresses: provision system interface).

The BMC password is read from the environment variable named by
--bmc-password-env, never from the command line. --set-secret KEY=- reads a
secret setting's value from the standard input: secret settings are
published nowhere, and only the system's own install template reads them.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			in := api.SystemInput{System: registry.System{Name: a[0], Netboot: true}}
			if err := systemFlags(c, &in); err != nil {
				return err
			}
			var out registry.System
			if err := client(c).Do(ctx(c), "POST", api.Path("systems")+publicQuery(c), in, &out); err != nil {
				return err
			}
			confirm(c, "system %s added (%s, %s, %s)", out.Name, out.IP, strings.Join(out.MACs, " "), out.Status)
			return nil
		},
	}
	edit := &cobra.Command{
		Use:   "edit NAME [the flags of add] [--rename NEW] [--unset KEY]...",
		Short: "Change a system; only the flags given change",
		Long: `Change a system; only the flags given change, and only those fields are
sent (a merge patch with the version read: an edit made by someone else in
between is kept, not overwritten). --mac replaces the MAC list.
--rename gives the system a new name (its default hostname follows unless
--hostname is given). A system never conflicts with itself. A new
--bmc-address needs --bmc-password-env too: the old BMC's password is
not sent to another address.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var in api.SystemInput
			changed, err := client(c).Edit(ctx(c), api.Path("systems", a[0]), publicQuery(c), &in, func() error { return systemFlags(c, &in) })
			return edited(c, "system "+a[0], changed, err)
		},
	}
	for _, sub := range []*cobra.Command{add, edit} {
		systemFlagSet(sub)
	}
	edit.Flags().String("rename", "", "new name")
	edit.Flags().StringArray("unset", nil, "remove setting KEY, ordinary or secret (repeatable)")
	edit.Flags().Bool("no-bmc", false, "remove the BMC")
	add.MarkFlagRequired("mac")
	add.MarkFlagRequired("ip")
	add.MarkFlagRequired("profile")
	c.AddCommand(add, edit, newSystemStatus(), newSystemReport(), newReinstall(), newAbort(), newNetboot(), newSystemInterface(), newInspect(), newInventory())
	kindCmds(c, "system", "systems", systemTable)
	return c
}

func systemFlagSet(c *cobra.Command) {
	f := c.Flags()
	f.StringArray("mac", nil, "MAC address (repeatable; any spelling)")
	f.String("ip", "", "reserved IPv4 address")
	f.String("profile", "", "profile name")
	f.String("hostname", "", "fully qualified host name (default NAME.ZONE)")
	f.Bool("netboot", true, "boot from the network (false: the boot script boots the local disk)")
	f.String("kernel-args", "", "kernel arguments added to the profile's")
	f.StringArray("set", nil, "setting KEY=VALUE (repeatable; published in DNS and data.cdb)")
	secretSetFlag(c)
	publicFlag(c)
	f.String("bmc-address", "", "BMC IPv4 address")
	f.String("bmc-user", "", "BMC user")
	f.String("bmc-password-env", "", "name of the environment variable holding the BMC password")
	f.String("bmc-provider", "", "how the BMC is spoken to: ipmi (default) or redfish")
	f.Int("bmc-port", 0, "BMC port (default: 623 for ipmi, 443 for redfish)")
	f.String("bmc-fingerprint", "", "redfish: trust the BMC's certificate by its SHA-256 (sha256:HEX), not by a CA")
	f.Bool("bmc-insecure", false, "redfish: check no certificate (the password goes to whoever answers)")
}

// systemFlags applies the flags that were given to in.
func systemFlags(c *cobra.Command, in *api.SystemInput) error {
	f := c.Flags()
	s := &in.System
	what := "system " + s.Name // before a rename
	if f.Changed("mac") {
		s.MACs, _ = f.GetStringArray("mac")
	}
	for flag, dst := range map[string]*string{"ip": &s.IP, "profile": &s.Profile, "hostname": &s.Hostname,
		"kernel-args": &s.KernelArgs} {
		if f.Changed(flag) {
			*dst, _ = f.GetString(flag)
		}
	}
	if f.Changed("netboot") {
		s.Netboot, _ = f.GetBool("netboot")
	}
	if f.Changed("rename") {
		s.Name, _ = f.GetString("rename")
		if !f.Changed("hostname") {
			s.Hostname = "" // follow the new name
		}
	}
	var err error
	if s.Settings, err = applySets(c, what, s.Settings, s.SecretSettings); err != nil {
		return err
	}
	if in.SecretValues, err = applySecretSets(c, what, s.Settings, in.SecretValues); err != nil {
		return err
	}
	return bmcFlags(c, in)
}

func bmcFlags(c *cobra.Command, in *api.SystemInput) error {
	f := c.Flags()
	if noBMC, _ := f.GetBool("no-bmc"); noBMC {
		in.BMC = nil
		return nil
	}
	touched := false
	for _, flag := range []string{"bmc-address", "bmc-user", "bmc-provider", "bmc-port", "bmc-password-env", "bmc-fingerprint", "bmc-insecure"} {
		touched = touched || f.Changed(flag)
	}
	if !touched {
		return nil
	}
	if in.BMC == nil {
		in.BMC = &registry.BMC{}
	}
	for flag, dst := range map[string]*string{"bmc-address": &in.BMC.Address, "bmc-user": &in.BMC.User, "bmc-provider": &in.BMC.Provider,
		"bmc-fingerprint": &in.BMC.Fingerprint} {
		if f.Changed(flag) {
			*dst, _ = f.GetString(flag)
		}
	}
	if f.Changed("bmc-port") {
		in.BMC.Port, _ = f.GetInt("bmc-port")
	}
	if f.Changed("bmc-insecure") {
		in.BMC.Insecure, _ = f.GetBool("bmc-insecure")
	}
	if name, _ := f.GetString("bmc-password-env"); name != "" {
		pw, ok := os.LookupEnv(name)
		if !ok || pw == "" {
			return usage(fmt.Errorf("--bmc-password-env %s: that environment variable is empty or not set", name))
		}
		in.BMCPassword = pw
	}
	return nil
}

func systemTable(w io.Writer, items []json.RawMessage, wide bool) {
	if wide {
		row(w, "NAME", "HOSTNAME", "MAC", "IP", "PROFILE", "NETBOOT", "STATUS", "SINCE", "KERNEL-ARGS", "BMC", "SETTINGS")
	} else {
		row(w, "NAME", "HOSTNAME", "MAC", "IP", "PROFILE", "NETBOOT", "STATUS")
	}
	for _, raw := range items {
		var s registry.System
		json.Unmarshal(raw, &s)
		if wide {
			bmc := "-"
			if s.BMC != nil {
				bmc = s.BMC.Address
			}
			row(w, s.Name, s.Hostname, strings.Join(s.MACs, ","), s.IP, s.Profile, fmt.Sprint(s.Netboot), s.Status,
				localTime(s.StatusSince), or(s.KernelArgs, "-"), bmc, fmt.Sprint(len(s.Settings)))
			continue
		}
		row(w, s.Name, s.Hostname, strings.Join(s.MACs, ","), s.IP, s.Profile, fmt.Sprint(s.Netboot), s.Status)
	}
}

func newSystemStatus() *cobra.Command {
	c := &cobra.Command{
		Use:   "status NAME [--all]",
		Short: "Show a system's state and the timeline of its last boot or build (DHCP, TFTP, script, kernel, initrd, template, done/failed)",
		Long: `Show a system's state and the timeline of its last boot or build (DHCP,
TFTP, script, kernel, initrd, template, done/failed), then, when the
appliance captures consoles, whether it captures this one, and for a
failed build the last console lines before the failure (from its
history; provision console NAME shows the whole console). --json prints
the timeline's events alone.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var sys registry.System
			cl := client(c)
			if err := cl.Do(ctx(c), "GET", api.Path("systems", a[0]), nil, &sys); err != nil {
				return err
			}
			path := api.Path("systems", a[0], "events")
			if all, _ := c.Flags().GetBool("all"); !all {
				path += "?last_boot=1"
			}
			var evs []registry.Event
			if err := cl.Do(ctx(c), "GET", path, nil, &evs); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), evs)
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "%s  %s  %s since %s  netboot %v\n", sys.Name, sys.IP, sys.Status, localTime(sys.StatusSince), sys.Netboot)
			if sys.Deadline != "" {
				fmt.Fprintf(w, "  build deadline %s\n", localTime(sys.Deadline))
			}
			if len(evs) == 0 {
				fmt.Fprintln(w, "  no boot seen yet")
			}
			for _, e := range evs {
				fmt.Fprintf(w, "  %s  %-7s %s\n", e.At.Local().Format("2006-01-02 15:04:05.000"), textsafe.Strip(e.Kind), textsafe.Strip(e.Detail))
			}
			consoleOfStatus(c, cl, &sys)
			return nil
		},
	}
	c.Flags().Bool("all", false, "every kept event, not only the last boot's")
	c.Flags().Bool("json", false, "print JSON")
	return c
}

func listDiscovered(c *cobra.Command) error {
	var items []registry.Discovered
	err := api.Pages(ctx(c), client(c), api.Path("discovered"), func(page []registry.Discovered) bool {
		items = append(items, page...)
		return true
	})
	if err != nil {
		return err
	}
	if asJSON(c) {
		return printJSON(c.OutOrStdout(), items)
	}
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
	row(tw, "MAC", "IP", "SUBNET", "HOSTNAME", "VENDOR-CLASS", "ARCH", "LAST-SEEN")
	for _, d := range items {
		row(tw, d.MAC, d.IP, d.Subnet, or(d.Hostname, "-"), or(d.VendorClass, "-"), fmt.Sprint(d.Arch), d.LastSeen.Local().Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}
