package main

import (
	"errors"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
)

// newAnsibleInventory is `provision inventory`: the Ansible inventory, as a
// dynamic inventory script prints it (not `system inventory`, a
// machine's hardware).
func newAnsibleInventory() *cobra.Command {
	c := &cobra.Command{
		Use:   "inventory [--list | --host NAME] [--group-by KEY]...",
		Short: "Print the Ansible inventory: the systems' groups and host vars, as a dynamic inventory script does",
		Long: `Print the registry as Ansible's dynamic inventory scripts print it (JSON):
--list (the default) gives every group with its hosts or child groups, and
every host's vars under _meta.hostvars; --host NAME gives one system's vars.

The systems are grouped by profile, image, site, subnet and state: group
profile holds groups profile_web, profile_db..., each holding its systems;
--group-by KEY does the same for the effective setting KEY (group role_lvs).
Group names keep Ansible's rules: every character but letters, digits and
'_' becomes '_'. A host's vars are ansible_host (its IP) and provision_ip,
provision_hostname, provision_macs, provision_interfaces, provision_bmc
(address and user, never the password), provision_profile, provision_image,
provision_subnet, provision_site, provision_status, and provision_settings,
its effective settings but the secret ones. The read-only token is enough.

contrib/ansible/provision_inventory.py is the same inventory as a script
ansible-inventory and ansible-playbook take with -i (docs/ansible.md).`,
		Example: `  provision inventory --list --group-by role
  provision inventory --host web001
  ansible-inventory -i contrib/ansible/provision_inventory.py --graph`,
		Args: args(cobra.NoArgs),
		RunE: runInventory,
	}
	c.Flags().Bool("list", false, "print every group and every host's vars (the default)")
	c.Flags().String("host", "", "print only this system's host vars")
	c.Flags().StringSlice("group-by", nil, "also group by this setting: groups KEY_VALUE in group KEY (repeat, or KEY,KEY)")
	c.RegisterFlagCompletionFunc("host", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		names, err := objectNames(c, "systems")
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

func runInventory(c *cobra.Command, _ []string) error {
	list, _ := c.Flags().GetBool("list")
	host, _ := c.Flags().GetString("host")
	groupBy, _ := c.Flags().GetStringSlice("group-by")
	q := url.Values{}
	switch {
	case c.Flags().Changed("host") && host == "":
		return usage(errors.New("--host: a system's name"))
	case list && host != "":
		return usage(errors.New("--list and --host: give one of them"))
	case host != "":
		q.Set("host", host)
	case len(groupBy) > 0:
		q["group_by"] = groupBy
	}
	path := api.Path("inventory")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return client(c).Raw(ctx(c), "GET", path, "", nil, -1, c.OutOrStdout())
}
