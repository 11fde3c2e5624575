package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/provision/provision/api"
)

func newLogin() *cobra.Command {
	c := &cobra.Command{
		Use:   "login [--user NAME] [--server URL] [--ca FILE|sha256:HEX]",
		Short: "Sign in (a token, or --user with the directory's password) and keep the token, with the server, in ~/.config/provision/config.yaml",
		Long: `Read an API token from the terminal (not echoed) or from standard input,
check it against the appliance at --server, and write the server, the --ca
pin and the token to ~/.config/provision/config.yaml (mode 0600). Client
verbs then use them when --server, $PROVISION_SERVER or $PROVISION_TOKEN do
not say otherwise. The token is never taken from the command line.

With --user NAME, read NAME's directory (LDAP) password the same way
instead, sign in with it, and keep the short-lived token the appliance
gives (12 hours unless its login_ttl says otherwise): the role and scopes
are those the directory's groups give (docs/access.md).`,
		Example: `  provision login --server https://192.0.2.10:8443 --ca sha256:5f0c...
  provision login --user alice --server https://192.0.2.10:8443 --ca sha256:5f0c...
  ssh appliance sudo cat /var/lib/provision/token-read-only | provision login --server https://192.0.2.10:8443 --ca sha256:5f0c...`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if user, _ := c.Flags().GetString("user"); user != "" {
				return loginUser(c, user)
			}
			tok, err := readSecret(c, "API token: ")
			if err != nil {
				return err
			}
			if tok == "" {
				return usage(errors.New("no token given"))
			}
			os.Setenv("PROVISION_TOKEN", tok) // for this process: client() sends it
			var who api.Caller
			cl := client(c)
			if err := cl.Do(ctx(c), "GET", api.Path("whoami"), nil, &who); err != nil {
				return err
			}
			ca, _ := c.Flags().GetString("ca")
			path, err := api.ClientConfig{Server: cl.BaseURL, CA: ca, Token: tok}.Save()
			if err != nil {
				return err
			}
			confirm(c, "logged in to %s with the %s token; saved in %s", cl.BaseURL, who.Name, path)
			return nil
		},
	}
	c.Flags().String("user", "", "sign in as this person with the directory's password (read like a token, never from the command line)")
	return c
}

// loginUser signs user in with the directory's password and keeps the
// token the appliance gives.
func loginUser(c *cobra.Command, user string) error {
	pw, err := readSecret(c, "Password for "+user+": ")
	if err != nil {
		return err
	}
	if pw == "" {
		return usage(errors.New("no password given"))
	}
	cl := client(c)
	cl.Token, cl.TokenFrom = "", "" // signing in needs none: a 401 is about the password
	ans, err := cl.Login(ctx(c), user, pw)
	if err != nil {
		return err
	}
	ca, _ := c.Flags().GetString("ca")
	path, err := api.ClientConfig{Server: cl.BaseURL, CA: ca, Token: ans.Token}.Save()
	if err != nil {
		return err
	}
	confirm(c, "logged in to %s as %s (%s) until %s; saved in %s", cl.BaseURL, ans.User.Name, roleText(ans.User), localTime(ans.Expires), path)
	return nil
}

// readSecret reads one line from the terminal without echo, or from
// standard input when it is not a terminal.
func readSecret(c *cobra.Command, prompt string) (string, error) {
	in := c.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.ErrOrStderr())
		return strings.TrimSpace(string(b)), err
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
