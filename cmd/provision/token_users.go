package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
)

// tokenUserCmds are the verbs of users' tokens: create, list, revoke.
func tokenUserCmds() []*cobra.Command {
	create := &cobra.Command{
		Use:   "create --user NAME [--expires 90d] [--name LABEL]",
		Short: "Make an API token for a user: printed once, on standard output (only its hash is kept)",
		Long: `Make an API token for a user. The token is printed alone on standard output,
and this is the only time it is shown: the appliance keeps only its hash.
History names the changes made with it USER/LABEL (--name). It stops
working at --expires (90d by default: Nd, Nh or a duration such as 36h;
"never" for a token without expiry) or when revoked (provision token
revoke), at its next request.`,
		Example: `  provision token create --user alice --name laptop
  PROVISION_TOKEN=$(provision token create --user ci --name pipeline --expires 365d)`,
		Args: args(cobra.NoArgs),
		RunE: createToken,
	}
	create.Flags().String("user", "", "the user the token is of")
	create.Flags().String("expires", "90d", `how long it lasts: Nd, Nh, a duration (36h), or "never"`)
	create.Flags().String("name", "", "a label for the token (history says USER/LABEL)")
	create.MarkFlagRequired("user")
	list := &cobra.Command{
		Use:   "list [--user NAME] [--json]",
		Short: "List users' tokens (never the tokens themselves): ID, user, label, created, expires",
		Example: `  provision token list
  provision token list --user taro --json`,
		Args: args(cobra.NoArgs),
		RunE: listTokens,
	}
	list.Flags().String("user", "", "only this user's tokens")
	list.Flags().Bool("json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke (ID | --user NAME)",
		Short: "Revoke a token, or every token of a user: it fails at its next request",
		Example: `  provision token revoke 3f9c0a1b2c4d
  provision token revoke --user taro`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: revokeTokens,
	}
	revoke.Flags().String("user", "", "revoke every token of this user")
	return []*cobra.Command{create, list, revoke}
}

func createToken(c *cobra.Command, _ []string) error {
	var in api.TokenInput
	in.User, _ = c.Flags().GetString("user")
	in.Label, _ = c.Flags().GetString("name")
	v, _ := c.Flags().GetString("expires")
	d, err := parseExpires(v)
	if err != nil {
		return usage(err)
	}
	if d > 0 {
		in.Expires = time.Now().Add(d).UTC().Format(time.RFC3339)
	}
	t, err := client(c).CreateToken(ctx(c), in)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.OutOrStdout(), t.Secret)
	fmt.Fprintf(c.ErrOrStderr(), "token %s of %s (expires %s): this is the only time it is shown\n", t.ID, t.User, or(t.Expires, "never"))
	return nil
}

// parseExpires reads --expires: Nd, Nh, a Go duration, or "never" (0).
func parseExpires(v string) (time.Duration, error) {
	bad := fmt.Errorf(`--expires %q: give Nd (90d), Nh, a duration (36h30m), or "never"`, v)
	switch {
	case v == "never":
		return 0, nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil || n <= 0 || n > 100*365 {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

func listTokens(c *cobra.Command, _ []string) error {
	user, _ := c.Flags().GetString("user")
	toks, err := client(c).Tokens(ctx(c), user)
	if err != nil {
		return err
	}
	if asJSON(c) {
		return printJSON(c.OutOrStdout(), toks)
	}
	tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
	row(tw, "ID", "USER", "LABEL", "CREATED", "EXPIRES")
	now := time.Now()
	for _, t := range toks {
		row(tw, t.ID, t.User, or(t.Label, "-"), localTime(t.Created), expiresText(&t, now))
	}
	return tw.Flush()
}

// expiresText is when a token expires: "never", the time, or the time
// and "(expired)".
func expiresText(t *registry.Token, now time.Time) string {
	if t.Expires == "" {
		return "never"
	}
	s := localTime(t.Expires)
	if t.Expired(now) {
		s += " (expired)"
	}
	return s
}

func revokeTokens(c *cobra.Command, a []string) error {
	user, _ := c.Flags().GetString("user")
	switch {
	case user != "" && len(a) == 0:
		out, err := client(c).RevokeTokens(ctx(c), user)
		if err != nil {
			return err
		}
		confirm(c, "%d tokens of %s revoked", out.Revoked, out.User)
		return nil
	case user == "" && len(a) == 1:
		t, err := client(c).RevokeToken(ctx(c), a[0])
		if err != nil {
			return err
		}
		confirm(c, "token %s of %s revoked", t.ID, t.User)
		return nil
	}
	return usage(errors.New("give a token's ID, or --user NAME for every token of that user (not both)"))
}
