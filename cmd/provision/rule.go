package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newRule() *cobra.Command {
	c := &cobra.Command{Use: "rule", Short: "Rules that name and register discovered machines without an operator",
		Long: `A rule accepts a discovered machine (provision discovered) when its --match
expression holds for the machine's inventory: it names the system from
--name, a template over the inventory, and gives it --profile and an
address (--ip auto: the lowest free one of --subnet, else of the subnet the
machine reported from). Rules run as each machine reports, lowest
--priority first (equal: by name); the first that matches decides. A name
or address conflict leaves the machine discovered, with the reason.

The expression (github.com/expr-lang/expr) reads lldp.switch, lldp.port,
lldp.port_description, lldp.chassis, lldp.vlan, dmi.vendor, dmi.product,
dmi.serial, dmi.uuid, dmi.bios_version, boot_mode, cpu.model, cpu.sockets,
cpu.cores, cpu.threads, memory_mib, disks, nics, bmc.ip, bmc.mac and mac;
a =~ "RE" is a regular expression match. The name template
(text/template) reads the inventory and .LLDP.Switch, .LLDP.Port,
.LLDP.PortNumber (the last digits of the port), .DMI.Serial...
Both are checked when the rule is added: a typo is refused, naming it.`}
	add := &cobra.Command{
		Use:   "add NAME --match EXPR --name TEMPLATE --profile P [--ip auto] [--subnet S] [--priority N] [--reinstall] [--enrol-bmc]",
		Short: "Add a rule",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			x := registry.Rule{Name: a[0]}
			ruleFlags(c, &x)
			out, err := client(c).AddRule(ctx(c), x)
			if err != nil {
				return err
			}
			confirm(c, "rule %s added (priority %d, profile %s)", out.Name, out.Priority, out.Profile)
			return nil
		},
	}
	edit := &cobra.Command{
		Use:   "edit NAME [the flags of add]",
		Short: "Change a rule; only the flags given change",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var x registry.Rule
			changed, err := client(c).Edit(ctx(c), api.Path("rules", a[0]), "", &x, func() error { ruleFlags(c, &x); return nil })
			return edited(c, "rule "+a[0], changed, err)
		},
	}
	for _, sub := range []*cobra.Command{add, edit} {
		f := sub.Flags()
		f.String("match", "", `expression over the inventory, e.g. lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/"`)
		f.String("name", "", "template of the system's name, e.g. a12-{{ .LLDP.PortNumber }}")
		f.String("profile", "", "the system's profile")
		f.String("ip", "", `"auto": the lowest free address of the subnet`)
		f.String("subnet", "", "the subnet of an auto address (default: the one the machine reported from)")
		f.Int("priority", 0, "lower runs first (equal: by name)")
		f.Bool("reinstall", false, "power the system through its enrolled BMC into its profile's install or deploy")
		f.Bool("enrol-bmc", false, "enrol the machine's BMC in-band before it is accepted")
	}
	for _, flag := range []string{"match", "name", "profile"} {
		add.MarkFlagRequired(flag)
	}
	test := &cobra.Command{
		Use:   "test NAME KEY [--json]",
		Short: "Show what a rule would do now with a machine (KEY: its boot MAC or DMI serial), changing nothing",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			out, err := client(c).TestRule(ctx(c), a[0], a[1])
			if err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), out)
			}
			printOutcome(c.OutOrStdout(), a[0], a[1], out)
			return nil
		},
	}
	test.Flags().Bool("json", false, "print JSON")
	c.AddCommand(add, edit, test)
	kindCmds(c, "rule", "rules", ruleTable)
	return c
}

// ruleFlags applies the flags that were given to x.
func ruleFlags(c *cobra.Command, x *registry.Rule) {
	f := c.Flags()
	for flag, dst := range map[string]*string{"match": &x.Match, "name": &x.Hostname, "profile": &x.Profile, "ip": &x.IP, "subnet": &x.Subnet} {
		if f.Changed(flag) {
			*dst, _ = f.GetString(flag)
		}
	}
	if f.Changed("priority") {
		x.Priority, _ = f.GetInt("priority")
	}
	for flag, dst := range map[string]*bool{"reinstall": &x.Reinstall, "enrol-bmc": &x.EnrolBMC} {
		if f.Changed(flag) {
			*dst, _ = f.GetBool(flag)
		}
	}
}

func ruleTable(w io.Writer, items []json.RawMessage, wide bool) {
	row(w, "PRIORITY", "NAME", "MATCH", "NAME-TEMPLATE", "PROFILE", "IP", "SUBNET", "REINSTALL", "ENROL-BMC")
	for _, raw := range items {
		var x registry.Rule
		json.Unmarshal(raw, &x)
		row(w, fmt.Sprint(x.Priority), x.Name, x.Match, x.Hostname, x.Profile, or(x.IP, "-"), or(x.Subnet, "-"), onOff(x.Reinstall), onOff(x.EnrolBMC))
	}
}

// printOutcome says what rule would do with machine key.
func printOutcome(w io.Writer, rule, key string, o *registry.RuleOutcome) {
	if o.Rule == "" || o.Name == "" {
		row(w, fmt.Sprintf("rule %s, machine %s: nothing would be added: %s", rule, key, or(o.Reason, "the rule does not match")))
		return
	}
	what := fmt.Sprintf("rule %s matches machine %s: it would add system %s (ip %s, profile %s", rule, key, o.Name, or(o.IP, "-"), o.Profile)
	if o.Reinstall {
		what += ", reinstalled"
	}
	what += ")"
	if o.Reason != "" {
		what = fmt.Sprintf("rule %s matches machine %s as system %s, but it would stay discovered: %s", rule, key, o.Name, o.Reason)
	}
	row(w, what)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
