package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/registry"
)

// Config is the server's configuration: embedded defaults, then the YAML
// file given by --config, then flags.
type Config struct {
	Data          string `yaml:"data"`            // database, image store, token
	HTTP          string `yaml:"http"`            // HTTP listen address
	DNS           string `yaml:"dns"`             // DNS listen address (UDP and TCP); "" = off
	TFTP          string `yaml:"tftp"`            // TFTP listen address; "" = off
	DHCP          string `yaml:"dhcp"`            // DHCP listen address (with DHCPInterface)
	DHCPInterface string `yaml:"dhcp_interface"`  // serve DHCP on this interface; "" = off
	DHCPMode      string `yaml:"dhcp_mode"`       // server (addresses and boot files) or proxy (boot files beside another DHCP server)
	ProxyAll      bool   `yaml:"proxy_all"`       // proxy mode: answer unknown MACs too
	BootFiles     string `yaml:"boot_files"`      // TFTP root: boot loaders
	Address       string `yaml:"address"`         // the appliance's IPv4 address as machines reach it
	Zone          string `yaml:"zone"`            // DNS zone of the hosts
	Dev           bool   `yaml:"dev"`             // 127.0.0.1 only, unprivileged ports, no root
	LogFormat     string `yaml:"log_format"`      // text or json
	SecretKeyFile string `yaml:"secret_key_file"` // seals BMC passwords and build tokens; default DATA/secret.key
	PowerPoll     string `yaml:"power_poll"`      // how often every BMC's power state is read; "0" = never
	Busybox       string `yaml:"busybox"`         // static busybox for diskless boot environments
	Zonecfg       string `yaml:"zonecfg"`         // static zonecfg for them; "" = next to provision, else on PATH
	// API, if set, is where the API listens apart from the boot routes,
	// over TLS: TLSCert and TLSKey, or a self-signed certificate in
	// DATA/tls made at first start.
	API     string `yaml:"api"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// DNSForward lists the upstream resolvers (IP[:PORT]) of names outside
	// the zone; nil = /etc/resolv.conf's name servers, [] or [none] = none.
	DNSForward []string `yaml:"dns_forward"`
	// Database is the registry's PostgreSQL database
	// (postgres://USER@HOST:PORT/DB), which several appliances may share;
	// "" is the embedded SQLite file DATA/registry.db. Its password comes
	// from DatabasePasswordFile, $PGPASSWORD or ~/.pgpass, never from
	// the command line.
	Database             string `yaml:"database"`
	DatabasePasswordFile string `yaml:"database_password_file"`
	// Name tells appliances on one database apart, in leases and boot
	// events (default: the host name). Site, if set, is the site this
	// appliance serves DHCP for: the subnets of that site and those of no
	// site; "" serves every subnet of no site.
	Name string `yaml:"name"`
	Site string `yaml:"site"`
	// Peers are the HTTP base URLs of the other appliances on the same
	// database (a master pair): image files uploaded to one of them are
	// fetched from it by the others, checked against the registry's sha256.
	Peers []string `yaml:"peers"`

	// addressFromInterface: no --address was given, so the appliance's
	// address is the DHCP interface's, chosen again once the registry is open.
	addressFromInterface bool
}

func defaults(dev bool) Config {
	if dev {
		return Config{Data: "provision-data", HTTP: "127.0.0.1:8080", DNS: "127.0.0.1:8053", TFTP: "127.0.0.1:8069",
			DHCP: "0.0.0.0:67", DHCPMode: "server", Address: "127.0.0.1", Zone: "internal", Dev: true, LogFormat: "text"}
	}
	return Config{Data: "/var/lib/provision", HTTP: ":80", DNS: ":53", TFTP: ":69", DHCP: "0.0.0.0:67", DHCPMode: "server", Zone: "internal", LogFormat: "text"}
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
	for flag, dst := range map[string]*string{"data": &cfg.Data, "http": &cfg.HTTP, "dns": &cfg.DNS, "tftp": &cfg.TFTP, "dhcp": &cfg.DHCP, "dhcp-interface": &cfg.DHCPInterface,
		"dhcp-mode":  &cfg.DHCPMode,
		"boot-files": &cfg.BootFiles, "address": &cfg.Address, "zone": &cfg.Zone, "log-format": &cfg.LogFormat,
		"secret-key-file": &cfg.SecretKeyFile, "power-poll": &cfg.PowerPoll,
		"busybox": &cfg.Busybox, "zonecfg": &cfg.Zonecfg, "database": &cfg.Database, "database-password-file": &cfg.DatabasePasswordFile, "api": &cfg.API, "tls-cert": &cfg.TLSCert, "tls-key": &cfg.TLSKey,
		"name": &cfg.Name, "site": &cfg.Site} {
		if fs.Changed(flag) {
			*dst, _ = fs.GetString(flag)
		}
	}
	if fs.Changed("database") && databaseHasPassword(cfg.Database) {
		return cfg, usageError{errors.New("--database: the URL holds a password, which every user of this machine can read on the command line: put it in $PGPASSWORD, ~/.pgpass or --database-password-file")}
	}
	if fs.Changed("proxy-all") {
		cfg.ProxyAll, _ = fs.GetBool("proxy-all")
	}
	if fs.Changed("peer") {
		cfg.Peers, _ = fs.GetStringSlice("peer")
	}
	if fs.Changed("dns-forward") {
		cfg.DNSForward, _ = fs.GetStringSlice("dns-forward")
	}
	cfg.Dev = cfg.Dev || dev
	if cfg.BootFiles == "" {
		cfg.BootFiles = filepath.Join(cfg.Data, "boot")
	}
	if cfg.PowerPoll == "" {
		// The dev server talks to no BMC on its own: its registry is a
		// playground whose BMC addresses may be anyone's.
		cfg.PowerPoll = "60s"
		if cfg.Dev {
			cfg.PowerPoll = "0"
		}
	}
	if d, err := time.ParseDuration(cfg.PowerPoll); err != nil || d < 0 || d > 0 && d < time.Second {
		return cfg, usageError{fmt.Errorf("--power-poll %q: want a duration of 1s or more, or 0 for never", cfg.PowerPoll)}
	}
	if cfg.Busybox == "" {
		cfg.Busybox = "/bin/busybox"
	}
	if cfg.SecretKeyFile == "" {
		cfg.SecretKeyFile = filepath.Join(cfg.Data, "secret.key")
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
		if registry.CheckObjectName("appliance", cfg.Name) != nil {
			cfg.Name = "provision"
		}
	}
	if cfg.Address == "" && cfg.DHCPInterface != "" {
		own, err := interfaceAddrs(cfg.DHCPInterface)
		if err != nil {
			return cfg, err
		}
		cfg.Address, cfg.addressFromInterface = own[0].Addr().String(), true
	}
	if cfg.Address == "" {
		cfg.Address = outboundAddress()
	}
	return cfg, cfg.check()
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

func (c Config) check() error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usageError{fmt.Errorf("log format %q: use text or json", c.LogFormat)}
	}
	if c.Zone == "" {
		return usageError{errors.New("zone must not be empty")}
	}
	if c.DHCPMode != "server" && c.DHCPMode != "proxy" {
		return usageError{fmt.Errorf("--dhcp-mode %q: use server or proxy", c.DHCPMode)}
	}
	if c.ProxyAll && c.DHCPMode != "proxy" {
		return usageError{errors.New("--proxy-all needs --dhcp-mode proxy")}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usageError{errors.New("give --tls-cert and --tls-key together")}
	}
	if c.TLSCert != "" && c.API == "" {
		return usageError{errors.New("--tls-cert is for the API listener: give --api ADDR too")}
	}
	if a, err := netip.ParseAddr(c.Address); err != nil || !a.Is4() {
		return usageError{fmt.Errorf("address %q: give the appliance's IPv4 address with --address", c.Address)}
	}
	if _, err := parseDNSForward(c.DNSForward); err != nil {
		return usageError{err}
	}
	for _, p := range c.Peers {
		if u, err := url.Parse(p); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil {
			return usageError{fmt.Errorf("--peer %q: give another appliance's boot URL, http://HOST[:PORT]", p)}
		}
	}
	if err := registry.CheckObjectName("appliance", c.Name); err != nil {
		return usageError{fmt.Errorf("--name: %w", err)}
	}
	if c.Site != "" {
		if err := registry.CheckSiteName(c.Site); err != nil {
			return usageError{fmt.Errorf("--site: %w", err)}
		}
	}
	return nil
}

// outboundAddress guesses the appliance's address without a DHCP
// interface: the first global unicast IPv4 address of an interface that
// is up, or "".
func outboundAddress() string {
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return ""
}

// secretKey returns the key that seals the registry's secrets: the key
// file, or a new one at first start. A missing key file is an error when
// the database already holds secrets sealed with a key: a new key could
// not open them.
func secretKey(ctx context.Context, path string, st *registry.SQLStore) (*seal.Key, error) {
	key, err := seal.Load(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return key, err
	}
	sealed, err := st.Sealed(ctx)
	if err != nil {
		return nil, err
	}
	if sealed {
		return nil, fmt.Errorf("secret key %s is missing, and the registry holds secrets sealed with it: restore the file, or give it with --secret-key-file (nothing was changed)", path)
	}
	return seal.Create(path)
}
