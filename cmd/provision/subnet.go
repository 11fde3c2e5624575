package main

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newSubnet() *cobra.Command {
	c := &cobra.Command{Use: "subnet", Short: "Manage subnets"}
	add := &cobra.Command{
		Use:   "add NAME --cidr CIDR [--gateway IP] [--pool FIRST-LAST] [--dns-server IP]... [--next-server IP]",
		Short: "Add a subnet",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			f := c.Flags()
			s := registry.Subnet{Name: a[0]}
			s.CIDR, _ = f.GetString("cidr")
			s.Gateway, _ = f.GetString("gateway")
			s.Pool, _ = f.GetString("pool")
			s.DNSServers, _ = f.GetStringArray("dns-server")
			s.NextServer, _ = f.GetString("next-server")
			return client(c).Do(ctx(c), "POST", api.Path("subnets"), s, nil)
		},
	}
	f := add.Flags()
	f.String("cidr", "", "IPv4 network, e.g. 10.0.0.0/24 (required)")
	f.String("gateway", "", "default router")
	f.String("pool", "", "dynamic range FIRST-LAST for unknown machines")
	f.StringArray("dns-server", nil, "DNS server handed out (repeatable; default the appliance)")
	f.String("next-server", "", "TFTP server handed out (default the appliance)")
	add.MarkFlagRequired("cidr")
	c.AddCommand(add)
	kindCmds(c, "subnet", "subnets", func(w io.Writer, items []json.RawMessage) {
		row(w, "NAME", "CIDR", "GATEWAY", "POOL", "DNS")
		for _, raw := range items {
			var s registry.Subnet
			json.Unmarshal(raw, &s)
			row(w, s.Name, s.CIDR, or(s.Gateway, "-"), or(s.Pool, "-"), or(strings.Join(s.DNSServers, ","), "-"))
		}
	})
	return c
}
