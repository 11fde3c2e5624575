package api

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/tlscert"
)

// ClientConfig is what "provision login" keeps for the client verbs:
// $XDG_CONFIG_HOME/provision/config.yaml (by default under ~/.config),
// mode 0600.
type ClientConfig struct {
	Server string `yaml:"server"`
	CA     string `yaml:"ca,omitempty"`
	Token  string `yaml:"token"`
}

// ClientConfigPath is $XDG_CONFIG_HOME/provision/config.yaml, by default
// under ~/.config; "" without a home directory.
func ClientConfigPath() string {
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

// ReadClientConfig reads the client config; none is an empty one. A file
// that does not parse is an error matching ErrClientOptions.
func ReadClientConfig() (ClientConfig, error) {
	var cc ClientConfig
	path := ClientConfigPath()
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
		return cc, clientError{fmt.Errorf("client config %s: %w", path, err)}
	}
	return cc, nil
}

// Save writes the client config, through a new file renamed over the
// old one, mode 0600, and returns its path.
func (cc ClientConfig) Save() (string, error) {
	out, err := yaml.Marshal(cc)
	if err != nil {
		return "", err
	}
	path := ClientConfigPath()
	if path == "" {
		return "", errors.New("client config: no home directory")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".new", out, 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(path+".new", path)
}

// TokenFiles are the data directories' admin tokens a client reads when
// no token is given otherwise: the appliance's (readable by root) and the
// dev server's in the current directory.
var TokenFiles = []string{"/var/lib/provision/token", "provision-data/token"}

// FindToken is the token a client sends: $PROVISION_TOKEN, else the
// client config's, else a data directory's token file (TokenFiles). where
// says where it came from, or lists the places looked in, for the error
// of a server that wants a token.
func FindToken(cc ClientConfig) (tok, where string) {
	if t := os.Getenv("PROVISION_TOKEN"); t != "" {
		return t, "$PROVISION_TOKEN"
	}
	if cc.Token != "" {
		return cc.Token, ClientConfigPath()
	}
	for _, f := range TokenFiles {
		if b, err := os.ReadFile(f); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return strings.TrimSpace(string(b)), f
		}
	}
	return "", "no token found in $PROVISION_TOKEN, " + ClientConfigPath() + " (provision login) or " + strings.Join(TokenFiles, ", ")
}

// ClientOptions say which appliance a client talks to, as a command line
// gives them; what it leaves empty comes from the environment, then from
// the client config.
type ClientOptions struct {
	// Server is the appliance's URL (HOST:PORT alone means http://); ""
	// is $PROVISION_SERVER, else the client config's, else
	// http://127.0.0.1:8080 (the dev server).
	Server string
	// CA pins an https server: a certificate file or sha256:HEX; "" is
	// $PROVISION_CA, else the client config's when its server is used.
	CA string
	// Answer is how long to wait for an answer to start (AnswerTimeout
	// when 0).
	Answer time.Duration
}

// ErrClientOptions marks a client that cannot be made as asked: a bad
// server URL, a bad CA, a client config that does not parse.
var ErrClientOptions = errors.New("client")

// clientError is an error of ErrClientOptions, its text unchanged.
type clientError struct{ error }

func (e clientError) Is(target error) bool { return target == ErrClientOptions }

func (e clientError) Unwrap() error { return e.error }

// NewClient makes the client of o, with the token FindToken finds (never
// from the command line, where other users could read it). A problem
// with o does not fail here: every request of the client fails with it
// (Client.Err, matching ErrClientOptions), so that a verb that sends
// none still runs.
func NewClient(o ClientOptions) *Client {
	cc, cerr := ReadClientConfig()
	server, ca := o.Server, o.CA
	if server == "" {
		server = os.Getenv("PROVISION_SERVER")
	}
	if ca == "" {
		ca = os.Getenv("PROVISION_CA")
	}
	if server == "" && cc.Server != "" {
		server = cc.Server // provision login's
		if ca == "" {
			ca = cc.CA
		}
	}
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	if o.Answer <= 0 {
		o.Answer = AnswerTimeout
	}
	base, err := serverURL(server)
	if err == nil {
		err = cerr
	}
	tok, where := FindToken(cc)
	cl := &Client{BaseURL: base, Token: tok, Err: err, TokenFrom: where}
	tc, err := tlscert.ClientConfig(ca)
	if err != nil && cl.Err == nil {
		cl.Err = clientError{err} // naming the --ca value
	}
	cl.HTTP = NewHTTPClient(o.Answer, tc)
	return cl
}

// serverURL is a server as a URL: HOST:PORT alone means http://HOST:PORT.
func serverURL(given string) (string, error) {
	s := given
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return "", clientError{fmt.Errorf("--server %q: want the appliance's URL, http://HOST:PORT or https://HOST:PORT", given)}
	}
	return strings.TrimSuffix(s, "/"), nil
}
