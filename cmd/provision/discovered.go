package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/internal/human"
	"github.com/provision/provision/internal/textsafe"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
)

func newDiscovered() *cobra.Command {
	c := &cobra.Command{Use: "discovered", Short: "Machines that booted the inventory agent: their hardware, and making them systems",
		Long: `An unknown machine that network-boots on a subnet with discovery on
(subnet edit NAME --discovery on) boots the inventory agent, which reports
its hardware: DMI, CPUs, memory, disks, NICs with their LLDP switch port,
and its BMC. It is then a discovered machine, named by KEY: its boot MAC
or its DMI serial. Accept makes it a system (a rule can do that instead:
provision rule); a registered system keeps its inventory (system inventory).`}
	list := &cobra.Command{
		Use: "list [--all] [-o table|json|yaml]", Short: "List discovered machines with a summary of their hardware", Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			state := registry.MachineDiscovered
			if all, _ := c.Flags().GetBool("all"); all {
				state = ""
			}
			ms, err := client(c).Machines(ctx(c), state)
			if err != nil {
				return err
			}
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return printJSON(c.OutOrStdout(), ms)
			case "yaml":
				b, _ := json.Marshal(ms)
				return human.YAML(c.OutOrStdout(), b)
			}
			machineTable(c.OutOrStdout(), ms, state == "")
			return nil
		},
	}
	list.Flags().Bool("all", false, "registered machines too (with the system each became)")
	list.Flags().Bool("json", false, "print JSON (-o json)")
	list.Flags().StringP("output", "o", "table", "table, json or yaml")
	show := &cobra.Command{
		Use: "show KEY [--json]", Short: "Show a machine's whole inventory (KEY: its boot MAC or DMI serial)", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			m, err := client(c).Machine(ctx(c), a[0])
			if err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), m)
			}
			return printMachine(c.OutOrStdout(), m)
		},
	}
	show.Flags().Bool("json", false, "print JSON")
	c.AddCommand(list, show, newAccept(), newDiscoveredRemove(), newWatch())
	return c
}

func newAccept() *cobra.Command {
	c := &cobra.Command{
		Use:   "accept KEY --name NAME --profile P [--ip auto|IP] [--subnet S] [--reinstall]",
		Short: "Make a discovered machine a system",
		Long: `Make a discovered machine a system: every NIC's MAC (the boot MAC first),
its enrolled BMC and its inventory go with it. --ip auto (the default)
takes the lowest free address of the subnet (--subnet, else the one the
machine reported from) outside its pool, gateway and next server; the
address, name and MACs are checked as any system add's, and a conflict
names the other object. --reinstall adds it pending a build and powers it
through its enrolled BMC straight into its profile's install or deploy.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var in api.AcceptInput
			f := c.Flags()
			in.Name, _ = f.GetString("name")
			in.Profile, _ = f.GetString("profile")
			in.IP, _ = f.GetString("ip")
			in.Subnet, _ = f.GetString("subnet")
			in.Reinstall, _ = f.GetBool("reinstall")
			res, err := client(c).AcceptMachine(ctx(c), a[0], in)
			if err != nil {
				return err
			}
			s := res.System
			confirm(c, "machine %s accepted: system %s (%s, %s, %s)", a[0], s.Name, s.IP, strings.Join(s.MACs, " "), s.Status)
			switch {
			case res.Power != "":
				confirm(c, "  its BMC was told: %s", res.Power)
			case res.PowerError != "":
				fmt.Fprintf(c.ErrOrStderr(), "provision: system %s: not powered: %s\n", s.Name, textsafe.Strip(res.PowerError))
			}
			return nil
		},
	}
	c.Flags().String("name", "", "the system's name")
	c.Flags().String("profile", "", "the system's profile")
	c.Flags().String("ip", "auto", "auto (the lowest free address of the subnet) or an address")
	c.Flags().String("subnet", "", "the subnet of an auto address (default: the one the machine reported from)")
	c.Flags().Bool("reinstall", false, "power it through its enrolled BMC into its profile's install or deploy")
	c.MarkFlagRequired("name")
	c.MarkFlagRequired("profile")
	return c
}

func newDiscoveredRemove() *cobra.Command {
	return &cobra.Command{
		Use: "remove KEY", Short: "Forget a machine and its inventory (it is discovered again when it reports again)", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if err := client(c).RemoveMachine(ctx(c), a[0]); err != nil {
				return err
			}
			confirm(c, "machine %s removed", a[0])
			return nil
		},
	}
}

func newWatch() *cobra.Command {
	c := &cobra.Command{
		Use:   "watch KEY [--off]",
		Short: "Keep a machine's agent up (for a console or a look), instead of powering off once done",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			off, _ := c.Flags().GetBool("off")
			m, err := client(c).WatchMachine(ctx(c), a[0], !off)
			if err != nil {
				return err
			}
			if m.Watch {
				confirm(c, "machine %s: its agent stays up", m.MAC)
			} else {
				confirm(c, "machine %s: its agent powers off once done", m.MAC)
			}
			return nil
		},
	}
	c.Flags().Bool("off", false, "stop watching: the agent powers the machine off")
	return c
}

// machineTable prints a line of hardware per machine; all adds the state
// and the system each became.
func machineTable(out io.Writer, ms []registry.Machine, all bool) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	head := []string{"MAC", "SERIAL", "VENDOR/PRODUCT", "CPU/MEMORY", "DISKS", "LLDP", "BMC", "REASON"}
	if all {
		head = append(head[:1], append([]string{"STATE", "SYSTEM"}, head[1:]...)...)
	}
	row(w, head...)
	for _, m := range ms {
		inv := m.Inventory
		cols := []string{m.MAC, or(inv.DMI.Serial, "-"), or(strings.TrimSpace(inv.DMI.Vendor+" "+inv.DMI.Product), "-"),
			cpuMemory(inv), disksSummary(inv.Disks), neighbour(inv), bmcSummary(m), or(m.Reason, "-")}
		if all {
			cols = append(cols[:1], append([]string{m.State, or(m.System, "-")}, cols[1:]...)...)
		}
		row(w, cols...)
	}
	w.Flush()
}

// cpuMemory is "2x 16c/32t, 64.0 GiB".
func cpuMemory(inv inventory.Inventory) string {
	cpu := "-"
	if inv.CPU.Threads > 0 {
		cpu = fmt.Sprintf("%dx %dc/%dt", max(inv.CPU.Sockets, 1), inv.CPU.Cores, inv.CPU.Threads)
	}
	if inv.MemoryMiB <= 0 {
		return cpu
	}
	return cpu + ", " + human.Bytes(inv.MemoryMiB<<20)
}

// disksSummary is "2, 4.0 GiB": how many disks, and their total size.
func disksSummary(ds []inventory.Disk) string {
	if len(ds) == 0 {
		return "-"
	}
	var total int64
	for _, d := range ds {
		total += d.SizeBytes
	}
	return fmt.Sprintf("%d, %s", len(ds), human.Bytes(total))
}

// neighbour is the switch and port the machine is cabled to.
func neighbour(inv inventory.Inventory) string {
	n := inv.Neighbour()
	if n == nil {
		return "-"
	}
	return or(n.SwitchName, n.ChassisID) + " " + n.PortID
}

// bmcSummary is the BMC's address and whether provision enrolled it.
func bmcSummary(m registry.Machine) string {
	addr := ""
	if m.Inventory.BMC != nil {
		addr = m.Inventory.BMC.IP
	}
	if m.BMC != nil && m.BMC.Address != "" {
		addr = m.BMC.Address
	}
	switch {
	case m.BMC != nil && m.BMC.Enrolled:
		return or(addr, "?") + " (enrolled)"
	case m.BMC != nil && m.BMC.Error != "":
		return or(addr, "?") + " (enrolment failed)"
	}
	return or(addr, "-")
}

// printMachine prints a machine and its whole inventory, a section at a
// time. Every value goes through textsafe.Strip: it came from the
// machine.
func printMachine(out io.Writer, m *registry.Machine) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	inv := m.Inventory
	kv := func(k string, v any) { row(w, "  "+k+":", fmt.Sprint(v)) }
	row(w, "machine "+m.MAC)
	kv("state", m.State)
	if m.System != "" {
		kv("system", m.System)
	}
	kv("reported from", or(m.IP, "-")+" (subnet "+or(m.Subnet, "-")+")")
	kv("first seen", m.FirstSeen.Local().Format("2006-01-02 15:04:05"))
	kv("updated", m.Updated.Local().Format("2006-01-02 15:04:05"))
	if m.Rule != "" {
		kv("rule", m.Rule)
	}
	if m.Reason != "" {
		kv("reason", m.Reason)
	}
	if m.Watch {
		kv("watch", "its agent stays up")
	}
	row(w, "dmi")
	kv("vendor", or(inv.DMI.Vendor, "-"))
	kv("product", or(inv.DMI.Product, "-"))
	kv("serial", or(inv.DMI.Serial, "-"))
	kv("uuid", or(inv.DMI.UUID, "-"))
	kv("bios", or(strings.TrimSpace(inv.DMI.BIOSVendor+" "+inv.DMI.BIOSVersion+" "+inv.DMI.BIOSDate), "-"))
	kv("boot mode", or(inv.BootMode, "-"))
	row(w, "cpu")
	kv("model", or(inv.CPU.Model, "-"))
	kv("sockets, cores, threads", fmt.Sprintf("%d, %d, %d", inv.CPU.Sockets, inv.CPU.Cores, inv.CPU.Threads))
	kv("memory", human.Bytes(inv.MemoryMiB<<20))
	row(w, "disks")
	for _, d := range inv.Disks {
		flags := []string{}
		if d.Rotational {
			flags = append(flags, "rotational")
		}
		if d.Removable {
			flags = append(flags, "removable")
		}
		row(w, "  "+d.Name, human.Bytes(d.SizeBytes), or(d.Model, "-"), "serial "+or(d.Serial, "-"), "wwn "+or(d.WWN, "-"), strings.Join(flags, ","))
	}
	row(w, "nics")
	for _, n := range inv.NICs {
		link, speed := "down", "-"
		if n.Link {
			link = "up"
		}
		if n.SpeedMbs > 0 {
			speed = fmt.Sprintf("%d Mb/s", n.SpeedMbs)
		}
		lldp := "no lldp"
		if l := n.LLDP; l != nil {
			lldp = "lldp " + or(l.SwitchName, "-") + " (" + or(l.ChassisID, "-") + ") port " + or(l.PortID, "-")
			if l.PortDescription != "" {
				lldp += " \"" + l.PortDescription + "\""
			}
			if l.VLAN != 0 {
				lldp += fmt.Sprintf(" vlan %d", l.VLAN)
			}
		}
		boot := ""
		if n.MAC == inv.MAC {
			boot = "boot"
		}
		row(w, "  "+n.Name, n.MAC, or(n.Driver, "-"), link, speed, lldp, boot)
	}
	row(w, "bmc")
	if b := inv.BMC; b != nil {
		kv("lan", fmt.Sprintf("channel %d, %s (%s), mac %s, netmask %s, gateway %s", b.Channel, or(b.IP, "-"), or(b.Source, "-"), or(b.MAC, "-"), or(b.Netmask, "-"), or(b.Gateway, "-")))
	} else {
		kv("lan", "none answered in-band")
	}
	if b := m.BMC; b != nil {
		state := "not enrolled"
		if b.Enrolled {
			state = "enrolled as " + b.User
		}
		if b.Error != "" {
			state += ": " + b.Error
		}
		kv("enrolment", state+" ("+b.At.Local().Format("2006-01-02 15:04:05")+")")
	}
	if len(inv.PCI) > 0 {
		row(w, fmt.Sprintf("pci (%d functions)", len(inv.PCI)))
		for _, p := range inv.PCI {
			row(w, "  "+p.Address, p.Class, p.Vendor+":"+p.Device, or(p.Driver, "-"))
		}
	}
	if inv.Agent != "" || len(inv.Errors) > 0 {
		row(w, "agent "+or(inv.Agent, "-"))
		for _, e := range inv.Errors {
			row(w, "  "+e)
		}
	}
	return w.Flush()
}
