package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newSystemInterface() *cobra.Command {
	c := &cobra.Command{Use: "interface", Short: "Manage a system's network interfaces (NICs, bonds, VLANs)",
		Example: "  provision system interface list web01\n" +
			"  provision system interface add web01 bond0 --bond-mode active-backup --members eth0,eth1 --primary"}
	add := &cobra.Command{
		Use: "add NAME IFNAME (--mac MAC | --bond-mode MODE --members IF,IF | --vlan-parent IF --vlan-id N)\n" +
			"    [--mtu N] [--primary] [--ip IP]",
		Short: "Add a network interface to a system: a NIC, a bond or a VLAN",
		Example: `  provision system interface add web01 eth1 --mac 52:54:00:00:00:02
  provision system interface add web01 bond0 --bond-mode active-backup --members eth0,eth1 --primary
  provision system interface add web01 bond0.100 --vlan-parent bond0 --vlan-id 100 --ip 10.100.0.31`,
		Long: `Add a network interface to a system: a NIC by its MAC (--mac), a bond of
the system's NICs (--bond-mode balance-rr, active-backup, balance-xor,
broadcast, 802.3ad, balance-tlb or balance-alb, --members), or a VLAN on
a NIC or bond (--vlan-parent, --vlan-id 1-4094). A system added with --mac
has one NIC per MAC, eth0, eth1...; eth0 carries the system's IP (it is
primary) until --primary names another interface, such as a bond of
eth0 and eth1. --ip gives another interface an extra address, checked
like the system's IP (inside a subnet, used by no other system). The
interfaces are written into a deployed system as systemd-networkd files:
bonds and VLANs get IFNAME, a NIC is matched by its MAC and keeps the
kernel's name (a NIC's IFNAME is a label). MTU: 68-9216.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			i, err := ifaceFlags(c, a[1])
			if err != nil {
				return err
			}
			var in api.SystemInput
			changed, err := client(c).Edit(ctx(c), api.Path("systems", a[0]), "", &in, func() error {
				ifs := in.Ifaces()
				if slices.ContainsFunc(ifs, func(o registry.Interface) bool { return o.Name == i.Name }) {
					return fmt.Errorf("system %s already has an interface %s", a[0], i.Name)
				}
				if i.Primary {
					for n := range ifs {
						ifs[n].Primary = false
					}
				}
				in.Interfaces = append(ifs, i)
				in.MACs = registry.MACsOf(in.Interfaces)
				return nil
			})
			if err == nil && len(changed) > 0 {
				confirm(c, "system %s: interface %s added (%s)", a[0], i.Name, i.Kind())
				return nil
			}
			return edited(c, "system "+a[0], changed, err)
		},
	}
	f := add.Flags()
	f.String("mac", "", "a NIC: its MAC address (any spelling)")
	f.String("bond-mode", "", "a bond: its mode ("+strings.Join(registry.BondModes, ", ")+")")
	f.StringSlice("members", nil, "a bond: its NICs, by interface name (IF,IF)")
	f.String("vlan-parent", "", "a VLAN: the NIC or bond it is on")
	f.Int("vlan-id", 0, "a VLAN: its id, 1-4094")
	f.Int("mtu", 0, "MTU, 68-9216 (default: the kernel's)")
	f.Bool("primary", false, "this interface carries the system's IP (instead of the current primary)")
	f.String("ip", "", "an extra IPv4 address on this (not primary) interface")
	add.MarkFlagsMutuallyExclusive("mac", "bond-mode")
	add.MarkFlagsMutuallyExclusive("mac", "vlan-parent")
	add.MarkFlagsMutuallyExclusive("bond-mode", "vlan-parent")
	add.MarkFlagsOneRequired("mac", "bond-mode", "vlan-parent")
	add.MarkFlagsRequiredTogether("bond-mode", "members")
	add.MarkFlagsRequiredTogether("vlan-parent", "vlan-id")

	list := &cobra.Command{
		Use:     "list NAME [--json]",
		Example: "  provision system interface list web01\n  provision system interface list web01 --json",
		Short:   "List a system's network interfaces (those of a system added with --mac only: eth0, eth1... by MAC)",
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var sys registry.System
			if err := client(c).Do(ctx(c), "GET", api.Path("systems", a[0]), nil, &sys); err != nil {
				return err
			}
			return printIfaces(c, &sys)
		},
	}
	list.Flags().Bool("json", false, "print JSON")

	remove := &cobra.Command{
		Use:     "remove NAME IFNAME",
		Example: "  provision system interface remove web01 bond0.100",
		Short:   "Remove a network interface from a system (not the primary, a bond's member or a VLAN's parent)",
		Args:    args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			var in api.SystemInput
			changed, err := client(c).Edit(ctx(c), api.Path("systems", a[0]), "", &in, func() error {
				ifs := in.Ifaces()
				n := slices.IndexFunc(ifs, func(o registry.Interface) bool { return o.Name == a[1] })
				if n < 0 {
					return fmt.Errorf("system %s has no interface %s", a[0], a[1])
				}
				in.Interfaces = slices.Delete(ifs, n, n+1)
				in.MACs = registry.MACsOf(in.Interfaces)
				return nil
			})
			if err == nil && len(changed) > 0 {
				confirm(c, "system %s: interface %s removed", a[0], a[1])
				return nil
			}
			return edited(c, "system "+a[0], changed, err)
		},
	}
	c.AddCommand(add, list, remove)
	return c
}

// ifaceFlags is the interface add's flags describe.
func ifaceFlags(c *cobra.Command, name string) (registry.Interface, error) {
	f := c.Flags()
	i := registry.Interface{Name: name}
	i.MAC, _ = f.GetString("mac")
	i.BondMode, _ = f.GetString("bond-mode")
	i.Members, _ = f.GetStringSlice("members")
	i.VLANParent, _ = f.GetString("vlan-parent")
	i.VLANID, _ = f.GetInt("vlan-id")
	i.MTU, _ = f.GetInt("mtu")
	i.Primary, _ = f.GetBool("primary")
	i.IP, _ = f.GetString("ip")
	if err := registry.CheckIfaceName(name); err != nil {
		return i, usage(err)
	}
	return i, nil
}

// ifaceLink is what an interface is made of: its bond mode and members,
// its VLAN parent and id, or its MAC.
func ifaceLink(i registry.Interface) string {
	switch i.Kind() {
	case registry.IfaceBond:
		return i.BondMode + " " + strings.Join(i.Members, ",")
	case registry.IfaceVLAN:
		return fmt.Sprintf("%s id %d", i.VLANParent, i.VLANID)
	}
	return i.MAC
}

func printIfaces(c *cobra.Command, sys *registry.System) error {
	views := api.Interfaces(sys)
	if asJSON(c) {
		return printJSON(c.OutOrStdout(), views)
	}
	return ifaceTable(c.OutOrStdout(), "", views)
}

// ifaceTable writes interfaces as a table, each line after indent.
func ifaceTable(w io.Writer, indent string, views []api.InterfaceView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, indent+"NAME", "KIND", "MAC/MEMBERS/PARENT", "MTU", "ADDRESS", "PRIMARY")
	for _, v := range views {
		mtu := "-"
		if v.MTU != 0 {
			mtu = fmt.Sprint(v.MTU)
		}
		primary := "no"
		if v.Primary {
			primary = "yes"
		}
		row(tw, indent+v.Name, v.Kind, ifaceLink(v.Interface), mtu, or(v.Address, "-"), primary)
	}
	return tw.Flush()
}
