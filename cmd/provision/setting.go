package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

func newSetting() *cobra.Command {
	c := &cobra.Command{
		Use:   "setting",
		Short: "Manage global settings (published as DNS TXT records) and secret settings (published nowhere)",
		Long: `Global settings are KEY=VALUE pairs such as lvs.vrid=100. Keys are
dot-separated DNS labels (case-insensitive), values at most 64,000 bytes (what one DNS answer carries).

Settings are public: anyone who can query the appliance's DNS or fetch
/zone/data.cdb reads them, as machines must at boot. Keep secrets out of
them: a key whose name has password, passwd, secret or token is refused
unless --public says it holds none.

Secret settings (set --secret) are published nowhere: not in DNS, data.cdb,
history, the API's answers or an export without --with-secrets. Only the
install template of a system's own build reads them (.Secrets), and they are
sealed at rest like BMC passwords. A key is secret or ordinary: set --secret
on an ordinary setting moves it.`,
	}
	set := &cobra.Command{
		Use: "set KEY VALUE [--public] | set --secret KEY VALUE|-", Short: "Set a setting (published in DNS and data.cdb), or a secret one (published nowhere)",
		Long: `Set a global setting. With --secret the setting is secret: published
nowhere, read only by install templates. A VALUE of - is read from the
standard input (its final newline dropped), which keeps it off the command
line: openssl passwd -6 | provision setting set --secret root.password-hash -`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, a []string) error {
			if secret, _ := c.Flags().GetBool("secret"); secret {
				return setSecret(c, a[0], a[1])
			}
			body := map[string]string{"value": a[1]}
			var out, cur registry.Setting
			cl := client(c)
			if err := cl.Do(ctx(c), "GET", api.Path("settings", a[0]), nil, &cur); err == nil && !cur.Secret && cur.Value == a[1] {
				fmt.Fprintln(c.ErrOrStderr(), "setting "+cur.Key+": no change")
				return nil
			}
			if err := cl.Do(ctx(c), "PUT", api.Path("settings", a[0])+publicQuery(c), body, &out); err != nil {
				return err
			}
			confirm(c, "setting %s set", out.Key)
			return nil
		},
	}
	publicFlag(set)
	set.Flags().Bool("secret", false, "a secret setting: published nowhere, read only by install templates (.Secrets)")
	get := &cobra.Command{
		Use: "get KEY [--with-secrets]", Short: "Print a setting's value", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			var s registry.Setting
			path := api.Path("settings", a[0])
			withSecrets, _ := c.Flags().GetBool("with-secrets")
			if withSecrets {
				path += "?secrets=1"
			}
			if err := client(c).Do(ctx(c), "GET", path, nil, &s); err != nil {
				return err
			}
			if s.Secret && !withSecrets {
				return fmt.Errorf("setting %s is secret: give --with-secrets (and the admin token) to print its value", s.Key)
			}
			fmt.Fprintln(c.OutOrStdout(), s.Value)
			return nil
		},
	}
	get.Flags().Bool("with-secrets", false, "print a secret setting's value (needs the admin token)")
	unset := &cobra.Command{
		Use: "unset KEY", Short: "Remove a setting", Args: args(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, a []string) error {
			if err := client(c).Do(ctx(c), "DELETE", api.Path("settings", a[0]), nil, nil); err != nil {
				return err
			}
			confirm(c, "setting %s unset", a[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use: "list [--json]", Short: "List settings", Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			var items []registry.Setting
			if err := client(c).Do(ctx(c), "GET", api.Path("settings"), nil, &items); err != nil {
				return err
			}
			if asJSON(c) {
				return printJSON(c.OutOrStdout(), items)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, s := range items {
				if s.Secret {
					s.Value = "(secret)"
				}
				row(tw, s.Key, s.Value)
			}
			return tw.Flush()
		},
	}
	list.Flags().Bool("json", false, "print JSON")
	c.AddCommand(set, get, unset, list)
	return c
}

// publicFlag adds --public: the secret-looking setting keys given hold no
// secret (settings are published to anyone).
func publicFlag(c *cobra.Command) {
	c.Flags().Bool("public", false, "a key named like a secret (password, secret, token) holds none: settings are published in DNS and data.cdb")
}

// publicQuery is "?public=1" when --public is given.
func publicQuery(c *cobra.Command) string {
	if p, _ := c.Flags().GetBool("public"); p {
		return "?public=1"
	}
	return ""
}

// setSecret sets the global secret setting key to value (- reads it from
// the standard input).
func setSecret(c *cobra.Command, key, value string) error {
	v, err := secretValue(c, "setting "+key, value)
	if err != nil {
		return err
	}
	var out registry.Setting
	if err := client(c).Do(ctx(c), "PUT", api.Path("settings", key), map[string]any{"value": v, "secret": true}, &out); err != nil {
		return err
	}
	confirm(c, "secret setting %s set", out.Key)
	return nil
}

// secretValue is value, or the standard input when value is "-" (read
// once: a second "-" is refused), its final newline dropped.
func secretValue(c *cobra.Command, what, value string) (string, error) {
	if value != "-" {
		return value, nil
	}
	if c.Annotations["stdin-read"] != "" {
		return "", usage(fmt.Errorf("%s: the standard input was read for %s already: give - once", what, c.Annotations["stdin-read"]))
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["stdin-read"] = what
	b, err := io.ReadAll(io.LimitReader(c.InOrStdin(), registry.MaxValueLen+2))
	if err != nil {
		return "", fmt.Errorf("%s: reading the standard input: %w", what, err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", usage(fmt.Errorf("%s: the standard input is empty", what))
	}
	return v, nil
}

// applySecretSets applies --set-secret KEY=VALUE (VALUE - from the
// standard input) to an object's secret settings (values goes to the
// input's secret_values) and takes KEY out of its ordinary settings: it
// moves.
func applySecretSets(c *cobra.Command, what string, settings map[string]string, values map[string]string) (map[string]string, error) {
	sets, _ := c.Flags().GetStringArray("set-secret")
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usage(fmt.Errorf("%s: --set-secret takes KEY=VALUE (VALUE - reads it from the standard input)", what))
		}
		v, err := secretValue(c, what+": secret setting "+k, v)
		if err != nil {
			return nil, err
		}
		if values == nil {
			values = map[string]string{}
		}
		values[k] = v
		delete(settings, k)
	}
	return values, nil
}

// secretSetFlag adds --set-secret to a profile's or system's add and edit.
func secretSetFlag(c *cobra.Command) {
	c.Flags().StringArray("set-secret", nil, "secret setting KEY=VALUE (repeatable; published nowhere, read only by install templates; VALUE - reads it from the standard input)")
}
