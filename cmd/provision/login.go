package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/api"
)

// clientConfig is ~/.config/provision/config.yaml, written by login.
type clientConfig struct {
	Server string `yaml:"server"`
	CA     string `yaml:"ca,omitempty"`
	Token  string `yaml:"token"`
}

// clientConfigPath is $XDG_CONFIG_HOME/provision/config.yaml, by default
// under ~/.config.
func clientConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "provision", "config.yaml")
}

func readClientConfig() (clientConfig, error) {
	var cc clientConfig
	path := clientConfigPath()
	if path == "" {
		return cc, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cc, nil
	}
	if err != nil {
		return cc, fmt.Errorf("client config %s: %w", path, err)
	}
	if err := yaml.Unmarshal(b, &cc); err != nil {
		return cc, usageError{fmt.Errorf("client config %s: %w", path, err)}
	}
	return cc, nil
}

// tokenFiles are the data directories' admin tokens the CLI reads when no
// token is given otherwise: the appliance's (readable by root) and the
// dev server's in the current directory.
var tokenFiles = []string{"/var/lib/provision/token", "provision-data/token"}

// findToken is the token the CLI sends: $PROVISION_TOKEN, else the client
// config's, else a data directory's token file. where lists the places
// looked in, for the error of a server that wants a token.
func findToken(cc clientConfig) (tok, where string) {
	if t := os.Getenv("PROVISION_TOKEN"); t != "" {
		return t, "$PROVISION_TOKEN"
	}
	if cc.Token != "" {
		return cc.Token, clientConfigPath()
	}
	for _, f := range tokenFiles {
		if b, err := os.ReadFile(f); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return strings.TrimSpace(string(b)), f
		}
	}
	return "", "no token found in $PROVISION_TOKEN, " + clientConfigPath() + " (provision login) or " + strings.Join(tokenFiles, ", ")
}

func newLogin() *cobra.Command {
	c := &cobra.Command{
		Use:   "login [--server URL] [--ca FILE|sha256:HEX]",
		Short: "Check a token against the appliance and keep it, with the server, in ~/.config/provision/config.yaml",
		Long: `Read an API token from the terminal (not echoed) or from standard input,
check it against the appliance at --server, and write the server, the --ca
pin and the token to ~/.config/provision/config.yaml (mode 0600). Client
verbs then use them when --server, $PROVISION_SERVER or $PROVISION_TOKEN do
not say otherwise. The token is never taken from the command line.`,
		Example: `  provision login --server https://192.0.2.10:8443 --ca sha256:5f0c...
  ssh appliance sudo cat /var/lib/provision/token-read-only | provision login --server https://192.0.2.10:8443 --ca sha256:5f0c...`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			tok, err := readSecret(c, "API token: ")
			if err != nil {
				return err
			}
			if tok == "" {
				return usageError{errors.New("no token given")}
			}
			os.Setenv("PROVISION_TOKEN", tok) // for this process: client() sends it
			var who api.Caller
			cl := client(c)
			if err := cl.Do(ctx(c), "GET", api.Path("whoami"), nil, &who); err != nil {
				return err
			}
			ca, _ := c.Flags().GetString("ca")
			out, _ := yaml.Marshal(clientConfig{Server: cl.BaseURL, CA: ca, Token: tok})
			path := clientConfigPath()
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(path+".new", out, 0o600); err != nil {
				return err
			}
			if err := os.Rename(path+".new", path); err != nil {
				return err
			}
			confirm(c, "logged in to %s with the %s token; saved in %s", cl.BaseURL, who.Name, path)
			return nil
		},
	}
	return c
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
