package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/provision/provision/access"
	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newUser() *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "People who may use the API and the dashboard, with a role and scopes",
		Long: `A user has a role: viewer (reads), operator (viewer, plus power, reinstall,
abort, netboot, inspect and accepting discovered machines) or admin
(everything). Scopes (--scope site=S, --scope profile=P) limit a user's
rights to the systems of those sites and profiles: reads are not narrowed,
and what is about no one system (templates, settings, subnets...) is
refused. A user signs in with a token (provision token create) or through
the directory (provision login --user). docs/access.md has the rights of
each role. Managing users takes the admin role.`,
		Example: `  provision user add taro --role operator --scope site=tokyo
  provision user list
  provision token create --user taro --name laptop`}
	add := &cobra.Command{
		Use:   "add NAME --role ROLE [--scope site=S | --scope profile=P]... [--full-name TEXT]",
		Short: "Add a user",
		Example: `  provision user add taro --role operator --scope site=tokyo --full-name "Taro Yamada"
  provision user add noc --role viewer
  provision user add web-team --role operator --scope profile=web --scope profile=web-canary`,
		Args: args(cobra.ExactArgs(1)),
		RunE: addUser,
	}
	add.Flags().String("role", "", "viewer, operator or admin")
	add.Flags().StringArray("scope", nil, "limit the user to the systems of site=SITE or profile=PROFILE (repeat for several)")
	add.Flags().String("full-name", "", "the person's name, as the dashboard shows it")
	add.MarkFlagRequired("role")
	c.AddCommand(add, newUserEdit())
	kindCmds(c, "user", "users", userTable)
	return c
}

func addUser(c *cobra.Command, a []string) error {
	in := api.UserInput{Name: a[0]}
	in.Role, _ = c.Flags().GetString("role")
	in.Scopes, _ = c.Flags().GetStringArray("scope")
	in.FullName, _ = c.Flags().GetString("full-name")
	if err := checkUserFlags(in); err != nil {
		return err
	}
	u, err := client(c).AddUser(ctx(c), in)
	if err != nil {
		return err
	}
	confirm(c, "user %s added: %s", u.Name, roleText(u))
	return nil
}

// checkUserFlags refuses a role or scope the server would, before asking.
func checkUserFlags(in api.UserInput) error {
	if _, err := access.ParseRole(in.Role); err != nil {
		return usage(fmt.Errorf("--role: %w", err))
	}
	if _, err := access.ParseScopes(in.Scopes); err != nil {
		return usage(fmt.Errorf("--scope: %w", err))
	}
	return nil
}

func newUserEdit() *cobra.Command {
	c := &cobra.Command{
		Use:   "edit NAME [--role ROLE] [--scope site=S | --scope profile=P]... [--no-scopes] [--full-name TEXT]",
		Short: "Change a user's role, scopes or full name (--scope replaces the scopes)",
		Example: `  provision user edit taro --role admin --no-scopes
  provision user edit taro --scope site=tokyo --scope site=osaka`,
		Args: args(cobra.ExactArgs(1)),
		RunE: editUser,
	}
	c.Flags().String("role", "", "viewer, operator or admin")
	c.Flags().StringArray("scope", nil, "the user's scopes from now on: site=SITE or profile=PROFILE (repeat for several)")
	c.Flags().Bool("no-scopes", false, "remove the user's scopes: every system")
	c.Flags().String("full-name", "", "the person's name")
	c.MarkFlagsMutuallyExclusive("scope", "no-scopes")
	return c
}

func editUser(c *cobra.Command, a []string) error {
	cl := client(c)
	u, err := cl.User(ctx(c), a[0])
	if err != nil {
		return err
	}
	in := api.UserInput{Name: u.Name, Role: u.Role, Scopes: u.Scopes, FullName: u.FullName}
	f := c.Flags()
	var fields []string
	set := func(flag string, apply func()) {
		if f.Changed(flag) {
			apply()
			fields = append(fields, flag)
		}
	}
	set("role", func() { in.Role, _ = f.GetString("role") })
	set("scope", func() { in.Scopes, _ = f.GetStringArray("scope") })
	set("no-scopes", func() { in.Scopes = nil })
	set("full-name", func() { in.FullName, _ = f.GetString("full-name") })
	if err := checkUserFlags(in); err != nil {
		return err
	}
	if in.Role == u.Role && slices.Equal(in.Scopes, u.Scopes) && in.FullName == u.FullName {
		fields = nil
	}
	if len(fields) > 0 {
		_, err = cl.EditUser(ctx(c), a[0], in)
	}
	return edited(c, "user "+a[0], fields, err)
}

// roleText is a user's role and scopes: "operator of site=tokyo".
func roleText(u *registry.User) string {
	if len(u.Scopes) == 0 {
		return u.Role
	}
	return u.Role + " of " + strings.Join(u.Scopes, ", ")
}

func userTable(w io.Writer, items []json.RawMessage, wide bool) {
	row(w, "NAME", "ROLE", "SCOPES", "SOURCE", "FULL-NAME")
	for _, raw := range items {
		var u registry.User
		json.Unmarshal(raw, &u)
		row(w, u.Name, u.Role, or(strings.Join(u.Scopes, ","), "-"), or(u.Source, "hand"), or(u.FullName, "-"))
	}
}
