package main

import (
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

func newTemplate() *cobra.Command {
	c := &cobra.Command{Use: "template", Short: "Manage install templates (kickstart, preseed, autoinstall, script, deploy, snippet)",
		Long: `Install templates are Go text/template files rendered per system when its
installer fetches them (GET /ks/TOKEN). A profile names its template with
--kickstart NAME. Built-in templates (rhel9-kickstart, debian12-preseed,
ubuntu-autoinstall) are always there; a user template of the same name
replaces one. Snippets (--kind snippet) are included by other templates with
{{template "NAME" .}}.

Every add or edit renders the template for every system that uses it, and
is refused, naming the system, template and line, if one fails.`}
	add := &cobra.Command{
		Use:   "add NAME --file F [--kind " + strings.Join(kickstart.Kinds, "|") + "]",
		Short: "Add a template (a built-in's name replaces the built-in)",
		Args:  args(cobra.ExactArgs(1)),
		RunE:  func(c *cobra.Command, a []string) error { return putTemplate(c, a[0], false) },
	}
	edit := &cobra.Command{
		Use:   "edit NAME --file F [--kind KIND]",
		Short: "Replace a template's text (and kind)",
		Args:  args(cobra.ExactArgs(1)),
		RunE:  func(c *cobra.Command, a []string) error { return putTemplate(c, a[0], true) },
	}
	for _, sub := range []*cobra.Command{add, edit} {
		sub.Flags().String("file", "", "template file (- for standard input)")
		sub.Flags().String("kind", "", "kind: "+strings.Join(kickstart.Kinds, ", ")+" (default: the built-in's of that name, else kickstart; edit: unchanged)")
		sub.MarkFlagRequired("file")
	}
	render := &cobra.Command{
		Use:   "render NAME --system SYS [--with-secrets]",
		Short: "Print what system SYS would get from template NAME (its build token shown as " + api.RenderPlaceholderToken + ", its secret settings masked)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			sys, _ := c.Flags().GetString("system")
			q := "?system=" + url.QueryEscape(sys)
			if s, _ := c.Flags().GetBool("with-secrets"); s {
				q += "&secrets=1"
			}
			return client(c).Raw(ctx(c), "GET", api.Path("templates", a[0], "render")+q, "", nil, -1, c.OutOrStdout())
		},
	}
	render.Flags().String("system", "", "system to render for")
	render.Flags().Bool("with-secrets", false, "show the system's secret settings instead of a mask (needs the admin token)")
	render.MarkFlagRequired("system")
	show := &cobra.Command{
		Use: "show NAME", Short: "Print a template's text", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var t registry.TemplateInfo
			if err := client(c).Do(ctx(c), "GET", api.Path("templates", a[0]), nil, &t); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), t)
			}
			_, err := fmt.Fprint(c.OutOrStdout(), t.Text)
			return err
		},
	}
	show.Flags().Bool("json", false, "print JSON (name, kind, builtin, text)")
	list := &cobra.Command{
		Use: "list", Short: "List templates", Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			var ts []registry.TemplateInfo
			if err := client(c).Do(ctx(c), "GET", api.Path("templates"), nil, &ts); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), ts)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			row(tw, "NAME", "KIND", "ORIGIN", "BYTES")
			for _, t := range ts {
				origin := "user"
				switch {
				case t.Builtin:
					origin = "built-in"
				case t.Overridden:
					origin = "user (replaces the built-in)"
				}
				row(tw, t.Name, t.Kind, origin, fmt.Sprint(len(t.Text)))
			}
			return tw.Flush()
		},
	}
	list.Flags().Bool("json", false, "print JSON")
	remove := &cobra.Command{
		Use: "remove NAME", Short: "Remove a user template (refused while a profile or template uses it)", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if err := client(c).Do(ctx(c), "DELETE", api.Path("templates", a[0]), nil, nil); err != nil {
				return err
			}
			confirm(c, "template %s removed", a[0])
			return nil
		},
	}
	c.AddCommand(add, edit, list, show, remove, render)
	return c
}

// putTemplate adds or edits a template from --file and --kind.
func putTemplate(c *cobra.Command, name string, edit bool) error {
	file, _ := c.Flags().GetString("file")
	text, err := readInput(c, file)
	if err != nil {
		return usage(fmt.Errorf("--file: %w", err))
	}
	t := kickstart.Template{Name: name, Text: string(text)}
	t.Kind, _ = c.Flags().GetString("kind")
	cl := client(c)
	if t.Kind == "" {
		var cur registry.TemplateInfo
		if err := cl.Do(ctx(c), "GET", api.Path("templates", name), nil, &cur); err == nil {
			t.Kind = cur.Kind
		} else if edit {
			return err
		} else {
			t.Kind = kickstart.KindKickstart
		}
	}
	if edit {
		if err := cl.Do(ctx(c), "PUT", api.Path("templates", name), t, nil); err != nil {
			return err
		}
		confirm(c, "template %s changed", name)
		return nil
	}
	if err := cl.Do(ctx(c), "POST", api.Path("templates"), t, nil); err != nil {
		return err
	}
	confirm(c, "template %s added (%s)", name, t.Kind)
	return nil
}
