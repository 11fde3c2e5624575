package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newSubnet() *cobra.Command {
	c := &cobra.Command{Use: "subnet", Short: "Manage subnets"}
	add := &cobra.Command{
		Use:   "add NAME --cidr CIDR [--gateway IP] [--pool FIRST-LAST] [--dns-server IP]... [--next-server IP] [--site SITE] [--discovery on|off] [--enrol-bmc on|off]",
		Short: "Add a subnet",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			s := registry.Subnet{Name: a[0]}
			if err := subnetFlags(c, &s); err != nil {
				return err
			}
			var out registry.Subnet
			if err := client(c).Do(ctx(c), "POST", api.Path("subnets"), s, &out); err != nil {
				return err
			}
			confirm(c, "subnet %s added (%s)", out.Name, out.CIDR)
			return nil
		},
	}
	edit := &cobra.Command{
		Use:   "edit NAME [--cidr CIDR] [--gateway IP] [--pool FIRST-LAST] [--dns-server IP]... [--next-server IP] [--site SITE] [--discovery on|off] [--enrol-bmc on|off] [--rename NEW]",
		Short: "Change a subnet; only the flags given change (an empty value clears one)",
		Long: `Change a subnet; only the flags given change, and an empty value clears an
optional one (--pool "" removes the pool). The change is refused if a
system's IP would fall outside every subnet or onto the new gateway, pool,
network or broadcast address.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var s registry.Subnet
			changed, err := client(c).Edit(ctx(c), api.Path("subnets", a[0]), "", &s, func() error { return subnetFlags(c, &s) })
			return edited(c, "subnet "+a[0], changed, err)
		},
	}
	for _, sub := range []*cobra.Command{add, edit} {
		f := sub.Flags()
		f.String("cidr", "", "IPv4 network, e.g. 10.0.0.0/24 (required for add)")
		f.String("gateway", "", "default router")
		f.String("pool", "", "dynamic range FIRST-LAST for unknown machines")
		f.StringArray("dns-server", nil, "DNS server handed out (repeatable; default the appliance)")
		f.String("next-server", "", "TFTP server handed out (default the appliance)")
		f.String("site", "", "only the appliances of this site (serve --site) serve DHCP here (default: every appliance)")
		f.String("discovery", "", "on: unknown machines that network-boot here boot the inventory agent (provision discovered); off: they do not")
		f.String("enrol-bmc", "", "on: the agent enrols their BMC in-band (a user provision, with a password of the appliance's); off: it does not")
	}
	edit.Flags().String("rename", "", "new name")
	add.MarkFlagRequired("cidr")
	c.AddCommand(add, edit)
	kindCmds(c, "subnet", "subnets", func(w io.Writer, items []json.RawMessage, _ bool) {
		row(w, "NAME", "CIDR", "GATEWAY", "POOL", "DNS", "SITE", "DISCOVERY")
		for _, raw := range items {
			var s registry.Subnet
			json.Unmarshal(raw, &s)
			row(w, s.Name, s.CIDR, or(s.Gateway, "-"), or(s.Pool, "-"), or(strings.Join(s.DNSServers, ","), "-"), or(s.Site, "-"), discoveryOf(s))
		}
	})
	return c
}

// discoveryOf is a subnet's discovery column: off, on, or on with the
// BMC enrolment.
func discoveryOf(s registry.Subnet) string {
	switch {
	case s.Discovery && s.EnrolBMC:
		return "on, enrol-bmc"
	case s.Discovery:
		return "on"
	case s.EnrolBMC:
		return "off (enrol-bmc)"
	}
	return "off"
}

// subnetFlags applies the flags that were given to s.
func subnetFlags(c *cobra.Command, s *registry.Subnet) error {
	f := c.Flags()
	for flag, dst := range map[string]*string{"cidr": &s.CIDR, "gateway": &s.Gateway, "pool": &s.Pool,
		"next-server": &s.NextServer, "site": &s.Site, "rename": &s.Name} {
		if f.Lookup(flag) != nil && f.Changed(flag) {
			*dst, _ = f.GetString(flag)
		}
	}
	if f.Changed("dns-server") {
		s.DNSServers, _ = f.GetStringArray("dns-server")
		if len(s.DNSServers) == 1 && s.DNSServers[0] == "" {
			s.DNSServers = nil // --dns-server "" clears the list
		}
	}
	for flag, dst := range map[string]*bool{"discovery": &s.Discovery, "enrol-bmc": &s.EnrolBMC} {
		if !f.Changed(flag) {
			continue
		}
		switch v, _ := f.GetString(flag); v {
		case "on":
			*dst = true
		case "off":
			*dst = false
		default:
			return usage(fmt.Errorf("--%s %q: want on or off", flag, v))
		}
	}
	return nil
}
