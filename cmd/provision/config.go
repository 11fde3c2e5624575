package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/appliance"
)

// loadConfig merges the appliance's defaults, the file and the flags that
// were set, then completes and checks the result (appliance.Config). The
// defaults are the dev ones when --dev is given or the file says dev: true.
// A configuration the appliance refuses is a usage error (exit 2).
func loadConfig(fs *pflag.FlagSet) (appliance.Config, error) {
	dev, _ := fs.GetBool("dev")
	path, _ := fs.GetString("config")
	cfg := appliance.Defaults(dev)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		var probe struct {
			Dev bool `yaml:"dev"`
		}
		yaml.Unmarshal(b, &probe)
		cfg = appliance.Defaults(dev || probe.Dev)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usage(fmt.Errorf("config %s: %w", path, err))
		}
	}
	for flag, dst := range map[string]*string{"data": &cfg.Data, "http": &cfg.HTTP, "dns": &cfg.DNS, "tftp": &cfg.TFTP, "dhcp": &cfg.DHCP, "dhcp-interface": &cfg.DHCPInterface,
		"dhcp-mode":  &cfg.DHCPMode,
		"boot-files": &cfg.BootFiles, "address": &cfg.Address, "zone": &cfg.Zone, "log-format": &cfg.LogFormat,
		"secret-key-file": &cfg.SecretKeyFile, "power-poll": &cfg.PowerPoll,
		"busybox": &cfg.Busybox, "zonecfg": &cfg.Zonecfg, "agent": &cfg.Agent, "database": &cfg.Database, "database-password-file": &cfg.DatabasePasswordFile, "api": &cfg.API, "tls-cert": &cfg.TLSCert, "tls-key": &cfg.TLSKey,
		"name": &cfg.Name, "site": &cfg.Site, "mirror-dir": &cfg.MirrorDir, "mirror-size": &cfg.MirrorSize, "mirror-index-ttl": &cfg.MirrorIndexTTL,
		"console-sessions": &cfg.ConsoleSessions, "console-dir": &cfg.ConsoleDir} {
		if fs.Changed(flag) {
			*dst, _ = fs.GetString(flag)
		}
	}
	if fs.Changed("database") && databaseHasPassword(cfg.Database) {
		return cfg, usage(errors.New("--database: the URL holds a password, which every user of this machine can read on the command line: put it in $PGPASSWORD, ~/.pgpass or --database-password-file"))
	}
	if fs.Changed("proxy-all") {
		cfg.ProxyAll, _ = fs.GetBool("proxy-all")
	}
	if fs.Changed("tftp-max-per-client") {
		cfg.TFTPMaxPerClient, _ = fs.GetInt("tftp-max-per-client")
	}
	if fs.Changed("api-host") {
		cfg.APIHosts, _ = fs.GetStringSlice("api-host")
	}
	if fs.Changed("peer") {
		cfg.Peers, _ = fs.GetStringSlice("peer")
	}
	if fs.Changed("mirror") {
		cfg.Mirrors, _ = fs.GetStringArray("mirror")
	}
	if fs.Changed("dns-forward") {
		cfg.DNSForward, _ = fs.GetStringSlice("dns-forward")
	}
	cfg.Dev = cfg.Dev || dev
	err := cfg.Complete()
	if errors.Is(err, appliance.ErrConfig) {
		err = usage(err)
	}
	return cfg, err
}

// databaseHasPassword reports whether a PostgreSQL URL or key=value
// connection string carries a password.
func databaseHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		_, set := u.User.Password()
		return set || u.Query().Has("password")
	}
	return strings.Contains(strings.ToLower(dsn), "password=")
}
