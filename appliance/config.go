package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/mirror"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/tftp"
)

// ErrConfig marks a configuration the appliance refuses before it opens
// anything: cmd/provision maps it to exit status 2.
var ErrConfig = errors.New("configuration")

// configError is a refused configuration: its text, and ErrConfig for
// errors.Is.
type configError struct{ error }

func (e configError) Is(target error) bool { return target == ErrConfig }

func (e configError) Unwrap() error { return e.error }

// Config is the server's configuration: Defaults, then the YAML file given
// by --config, then flags (both read by cmd/provision), then Complete.
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
	Agent         string `yaml:"agent"`           // static provision-agent for them (discovery); "" = next to provision, else on PATH, else none
	// API, if set, is where the API listens apart from the boot routes,
	// over TLS: TLSCert and TLSKey, or a self-signed certificate in
	// DATA/tls made at first start.
	API     string `yaml:"api"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// APIHosts are more names (or addresses) the API and dashboard answer
	// to in the Host header, beside the appliance's own (ownHost).
	APIHosts []string `yaml:"api_hosts"`
	// TFTPMaxPerClient bounds the TFTP transfers of one client address at
	// once (0: tftp.DefaultMaxPerClient, 16): machines booting behind one
	// NAT address need more.
	TFTPMaxPerClient int `yaml:"tftp_max_per_client"`
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

	// Mirrors are the package archives the appliance caches for
	// installers and installed systems (package mirror), each "URL"
	// (served at /LAST-PATH-ELEMENT/) or "NAME=URL"; nil = the archives
	// of this machine's own apt sources, [none] = no cache. MirrorDir
	// holds the cache (default DATA/mirror), MirrorSize bounds it (default
	// 20GiB), MirrorIndexTTL is how long an index file whose upstream
	// sends no validators is served before it is fetched again (default
	// 30m).
	Mirrors        []string `yaml:"mirrors"`
	MirrorDir      string   `yaml:"mirror_dir"`
	MirrorSize     string   `yaml:"mirror_size"`
	MirrorIndexTTL string   `yaml:"mirror_index_ttl"`

	// LDAP, if set, lets people sign in with the directory's password
	// (provision login --user, the dashboard): LDAPConfig. LoginTTL is
	// how long the token of a sign-in lasts (default 12h).
	LDAP     *LDAPConfig `yaml:"ldap"`
	LoginTTL string      `yaml:"login_ttl"`

	// ConsoleSessions bounds the machines' serial consoles captured at
	// once (SOL sessions, each an ipmitool): a number, default 256 (off
	// with Dev); 0 or "off" captures none (the API's console routes
	// answer 501).
	// ConsoleDir holds each system's recorded console (default
	// DATA/console).
	ConsoleSessions string `yaml:"console_sessions"`
	ConsoleDir      string `yaml:"console_dir"`

	// BootNetHTTP serves the boot routes through net/http alone, without
	// the fast path: for comparison benchmarks (bench/http.sh), never set
	// by a file or a flag.
	BootNetHTTP bool `yaml:"-"`

	// addressFromInterface: no address was given, so the appliance's
	// address is the DHCP interface's, chosen again once the registry is open.
	addressFromInterface bool
}

// Defaults is the configuration before the file and the flags: the dev
// server's (127.0.0.1, unprivileged ports) when dev is set.
func Defaults(dev bool) Config {
	if dev {
		return Config{Data: "provision-data", HTTP: "127.0.0.1:8080", DNS: "127.0.0.1:8053", TFTP: "127.0.0.1:8069",
			DHCP: "0.0.0.0:67", DHCPMode: "server", Address: "127.0.0.1", Zone: "internal", Dev: true, LogFormat: "text"}
	}
	return Config{Data: "/var/lib/provision", HTTP: ":80", DNS: ":53", TFTP: ":69", DHCP: "0.0.0.0:67", DHCPMode: "server", Zone: "internal", LogFormat: "text"}
}

// Complete fills what was left empty from the rest (the boot files and
// secret key in the data directory, the power poll, the name, the
// address) and checks the result.
func (c *Config) Complete() error {
	if c.BootFiles == "" {
		c.BootFiles = filepath.Join(c.Data, "boot")
	}
	if c.PowerPoll == "" {
		// The dev server talks to no BMC on its own: its registry is a
		// playground whose BMC addresses may be anyone's.
		c.PowerPoll = "60s"
		if c.Dev {
			c.PowerPoll = "0"
		}
	}
	if c.Busybox == "" {
		c.Busybox = "/bin/busybox"
	}
	if c.SecretKeyFile == "" {
		c.SecretKeyFile = filepath.Join(c.Data, "secret.key")
	}
	if c.MirrorDir == "" {
		c.MirrorDir = filepath.Join(c.Data, "mirror")
	}
	if c.MirrorSize == "" {
		c.MirrorSize = "20GiB"
	}
	if c.MirrorIndexTTL == "" {
		c.MirrorIndexTTL = "30m"
	}
	if c.ConsoleSessions == "" {
		// As the power poll: the dev server opens no SOL session to
		// its playground's BMCs on its own.
		c.ConsoleSessions = "256"
		if c.Dev {
			c.ConsoleSessions = "off"
		}
	}
	if c.ConsoleDir == "" {
		c.ConsoleDir = filepath.Join(c.Data, "console")
	}
	if c.Name == "" {
		c.Name, _ = os.Hostname()
		if registry.CheckObjectName("appliance", c.Name) != nil {
			c.Name = "provision"
		}
	}
	if c.Address == "" && c.DHCPInterface != "" {
		own, err := interfaceAddrs(c.DHCPInterface)
		if err != nil {
			return err
		}
		c.Address, c.addressFromInterface = own[0].Addr().String(), true
	}
	if c.Address == "" {
		c.Address = outboundAddress()
	}
	return c.Check()
}

// Check refuses a configuration the appliance cannot run with; its errors
// match ErrConfig.
func (c Config) Check() error {
	bad := func(f string, a ...any) error { return configError{fmt.Errorf(f, a...)} }
	if c.TFTPMaxPerClient < 0 || c.TFTPMaxPerClient > tftp.DefaultMaxTransfers {
		return bad("tftp max per client %d: use 1 to %d (0: %d)", c.TFTPMaxPerClient, tftp.DefaultMaxTransfers, tftp.DefaultMaxPerClient)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log format %q: use text or json", c.LogFormat)
	}
	if c.Zone == "" {
		return bad("zone must not be empty")
	}
	if c.DHCPMode != "server" && c.DHCPMode != "proxy" {
		return bad("--dhcp-mode %q: use server or proxy", c.DHCPMode)
	}
	if c.ProxyAll && c.DHCPMode != "proxy" {
		return bad("--proxy-all needs --dhcp-mode proxy")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("give --tls-cert and --tls-key together")
	}
	if c.TLSCert != "" && c.API == "" {
		return bad("--tls-cert is for the API listener: give --api ADDR too")
	}
	if a, err := netip.ParseAddr(c.Address); err != nil || !a.Is4() {
		return bad("address %q: give the appliance's IPv4 address with --address", c.Address)
	}
	if d, err := time.ParseDuration(c.PowerPoll); err != nil || d < 0 || d > 0 && d < time.Second {
		return bad("--power-poll %q: want a duration of 1s or more, or 0 for never", c.PowerPoll)
	}
	if _, err := parseDNSForward(c.DNSForward); err != nil {
		return configError{err}
	}
	for _, p := range c.Peers {
		if u, err := url.Parse(p); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil {
			return bad("--peer %q: give another appliance's boot URL, http://HOST[:PORT]", p)
		}
	}
	if err := c.checkMirror(); err != nil {
		return configError{err}
	}
	if err := c.checkLogin(); err != nil {
		return configError{err}
	}
	if _, err := c.consoleSessions(); err != nil {
		return configError{err}
	}
	if err := registry.CheckObjectName("appliance", c.Name); err != nil {
		return bad("--name: %w", err)
	}
	if c.Site != "" {
		if err := registry.CheckSiteName(c.Site); err != nil {
			return bad("--site: %w", err)
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

// consoleSessions is ConsoleSessions as a number: 0 for off.
func (c Config) consoleSessions() (int, error) {
	if c.ConsoleSessions == "off" {
		return 0, nil
	}
	n, err := strconv.Atoi(c.ConsoleSessions)
	if err != nil || n < 0 || n > maxConsoleSessions {
		return 0, fmt.Errorf("--console-sessions %q: want 0 to %d SOL sessions at once, or off", c.ConsoleSessions, maxConsoleSessions)
	}
	return n, nil
}

// maxConsoleSessions bounds --console-sessions: each session is an
// ipmitool process with a pseudo-terminal.
const maxConsoleSessions = 10000

// checkMirror refuses a package cache configuration mirror.New would.
func (c Config) checkMirror() error {
	if _, err := c.mirrorArchives(); err != nil {
		return err
	}
	if n, err := humanize.ParseBytes(c.MirrorSize); err != nil || n < 1<<20 {
		return fmt.Errorf("--mirror-size %q: want a size of 1MiB or more, such as 20GiB", c.MirrorSize)
	}
	if d, err := time.ParseDuration(c.MirrorIndexTTL); err != nil || d < 0 {
		return fmt.Errorf("--mirror-index-ttl %q: want a duration, such as 30m, or 0", c.MirrorIndexTTL)
	}
	return nil
}

// mirrorArchives are the archives of Mirrors, or of this machine's apt
// sources when Mirrors is nil; none for [none].
func (c Config) mirrorArchives() ([]mirror.Archive, error) {
	if c.Mirrors == nil {
		archives, err := mirror.AptSources("/")
		if err != nil {
			return nil, fmt.Errorf("package cache: the archives of this machine's apt sources: %w (give them with --mirror URL, or --mirror none)", err)
		}
		return archives, nil
	}
	if len(c.Mirrors) == 1 && c.Mirrors[0] == "none" || len(c.Mirrors) == 0 {
		return nil, nil
	}
	var archives []mirror.Archive
	seen := map[string]bool{}
	for _, m := range c.Mirrors {
		arc, err := mirror.ParseArchive(m)
		if err != nil {
			return nil, fmt.Errorf("--mirror: %w", err)
		}
		if seen[arc.Name] {
			return nil, fmt.Errorf("--mirror %q: archive %s is given twice", m, arc.Name)
		}
		seen[arc.Name] = true
		archives = append(archives, arc)
	}
	return archives, nil
}
