package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Config is the server's configuration: embedded defaults, then the YAML
// file given by --config, then flags.
type Config struct {
	Data      string `yaml:"data"`       // database, image store, token
	HTTP      string `yaml:"http"`       // HTTP listen address
	Zone      string `yaml:"zone"`       // DNS zone of the hosts
	Dev       bool   `yaml:"dev"`        // 127.0.0.1 only, unprivileged ports, no root
	LogFormat string `yaml:"log_format"` // text or json
}

func defaults(dev bool) Config {
	if dev {
		return Config{Data: "provision-data", HTTP: "127.0.0.1:8080", Zone: "internal", Dev: true, LogFormat: "text"}
	}
	return Config{Data: "/var/lib/provision", HTTP: ":80", Zone: "internal", LogFormat: "text"}
}

// loadConfig merges defaults, the file and the flags that were set. The
// defaults are the dev ones when --dev is given or the file says dev: true.
func loadConfig(fs *pflag.FlagSet) (Config, error) {
	dev, _ := fs.GetBool("dev")
	path, _ := fs.GetString("config")
	cfg := defaults(dev)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		var probe struct {
			Dev bool `yaml:"dev"`
		}
		yaml.Unmarshal(b, &probe)
		cfg = defaults(dev || probe.Dev)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usageError{fmt.Errorf("config %s: %w", path, err)}
		}
	}
	for flag, dst := range map[string]*string{"data": &cfg.Data, "http": &cfg.HTTP, "zone": &cfg.Zone, "log-format": &cfg.LogFormat} {
		if fs.Changed(flag) {
			*dst, _ = fs.GetString(flag)
		}
	}
	cfg.Dev = cfg.Dev || dev
	return cfg, cfg.check()
}

func (c Config) check() error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usageError{fmt.Errorf("log format %q: use text or json", c.LogFormat)}
	}
	if c.Zone == "" {
		return usageError{errors.New("zone must not be empty")}
	}
	return nil
}

// loadToken reads DATA/token, creating it (mode 0600) at first start.
func loadToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "token")
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	tok := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(tok + "\n"); err != nil {
		return "", err
	}
	return tok, f.Sync()
}
