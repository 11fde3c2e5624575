package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/provision/provision/appliance"
)

func newServe() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve [--dev] [--config FILE] [--data DIR] [--database URL] [--http ADDR] [--api ADDR [--tls-cert F --tls-key F]] [--dns ADDR] [--dns-forward IP,...] [--tftp ADDR] [--dhcp-interface IF [--dhcp-mode proxy [--proxy-all]]] [--zone ZONE] [--mirror URL|NAME=URL|none]...",
		Short: "Run the appliance",
		Long: `Run the appliance: the HTTP API, boot scripts and images, the DNS zone and its
data.cdb, and TFTP, all from one registry.

Configuration comes from the embedded defaults, then the YAML file given by
--config (keys: data, database, database_password_file, http, api, api_hosts, tls_cert, tls_key, dns, dns_forward, tftp, tftp_max_per_client, dhcp,
dhcp_interface, dhcp_mode, proxy_all, boot_files, address, zone, dev, log_format,
secret_key_file, power_poll, name, site, peers, console_sessions, console_dir), then flags. DHCP runs only with
--dhcp-interface (it needs root for port 67). --dhcp-mode proxy runs it as a
proxyDHCP beside a DHCP server the network already has: that server hands
out the addresses, the appliance answers PXE and HTTP boot clients only
(option 60 PXEClient or HTTPClient) with their boot file and no address, on
port 67 and on the PXE boot server port 4011; registered MACs only, unless
--proxy-all. With --dev everything listens on 127.0.0.1 on
unprivileged ports (HTTP 8080, DNS 8053, TFTP 8069) and needs no root; the
data directory defaults to ./provision-data; and the server stops when the
process that started it exits (so that "go run" killed does not leave it
holding its ports).

Every API request, reads too, needs a token, sent as $PROVISION_TOKEN: the
admin token (DATA/token) reads and writes, the read-only token
(DATA/token-read-only) only reads. Both are random, mode 0600, made at first
start and replaced by "provision token rotate [--read-only]"; history records
which token made each change, and from which address. Machines need no
token: boot scripts, images, data.cdb and templates (by build token) stay
open. The API is served on --http beside the boot routes, in plain HTTP,
unless --api ADDR gives it a listener of its own (a management interface):
over TLS with --tls-cert and --tls-key, or else with a self-signed
certificate made at first start in DATA/tls, whose fingerprint is logged at
every start; clients pin it with --ca sha256:HEX or $PROVISION_CA. BMC passwords and build tokens are sealed in the database
with AES-256-GCM under DATA/secret.key (or --secret-key-file; mode 0600,
created at first start, when plaintext ones are sealed): back it up with the
database, which cannot be read without it. An empty --dns or --tftp turns that server off. SIGTERM or
SIGINT shut the server down gracefully.

The registry is DATA/registry.db (SQLite) unless --database names a
PostgreSQL database (postgres://USER@HOST:PORT/DB), which several
appliances may share with the same secret key; its password comes from
--database-password-file, $PGPASSWORD or ~/.pgpass, never from the URL on
the command line. Appliances sharing a database tell each other apart by
--name (default the host name): leases and boot events name the appliance
that served them, and a pool address is leased to one MAC at a time across
all of them. --site SITE makes an appliance serve DHCP only for the subnets
of that site (subnet add --site) and those of no site; every appliance
answers DNS for the whole zone. Image files live in each appliance's data
directory: --peer URL (repeatable; another appliance's boot listener,
http://HOST) makes this one fetch the files of images uploaded there, as
soon as the registry names them, keeping each only if its sha256 is the
registry's.

DNS answers the zone and its reverse zones itself. Queries for other names
from machines inside a registered subnet and from this host (127.0.0.1, ::1)
are forwarded to --dns-forward (default: the name servers of
/etc/resolv.conf, but this server itself) and the answers cached; everyone
else gets REFUSED. --dns-forward none turns forwarding off.`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(c.Flags())
			if err != nil {
				return err
			}
			if cfg.Dev && !dieWithParent() {
				return errors.New("the process that started the dev server is gone")
			}
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			a, err := appliance.Open(ctx, cfg, appliance.NewLogger(cfg.LogFormat, os.Stderr))
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
	}
	f := c.Flags()
	f.String("config", "", "YAML configuration file")
	f.String("data", "", "data directory: database, image store, API token (default /var/lib/provision, or ./provision-data with --dev)")
	f.String("http", "", "HTTP listen address (default :80, or 127.0.0.1:8080 with --dev)")
	f.String("dns", "", "DNS listen address, UDP and TCP (default :53, or 127.0.0.1:8053 with --dev)")
	f.StringSlice("dns-forward", nil, "upstream resolvers IP[:PORT],... of names outside the zone, for registered subnets and this host (default: /etc/resolv.conf's name servers; none: refuse them)")
	f.String("tftp", "", "TFTP listen address (default :69, or 127.0.0.1:8069 with --dev)")
	f.Int("tftp-max-per-client", 0, "TFTP transfers one client address may have at once, 1 to 2048 (default 16; machines booting behind one NAT address need more)")
	f.String("api", "", "serve the API (and /metrics) here, over TLS, apart from the boot routes on --http (default: on --http, plain)")
	f.String("tls-cert", "", "certificate of the --api listener (PEM; default: a self-signed one made at first start in DATA/tls)")
	f.String("tls-key", "", "key of --tls-cert (PEM)")
	f.StringSlice("api-host", nil, "another name (or address) the API and dashboard answer to in the Host header, beside the appliance's addresses, host name, --name and localhost (repeatable); any other host is refused (421)")
	f.String("dhcp-interface", "", "serve DHCP on this interface (default: no DHCP)")
	f.String("dhcp", "", "DHCP listen address (default 0.0.0.0:67)")
	f.String("dhcp-mode", "", `server: hand out addresses and boot files; proxy: boot files only, beside the network's DHCP server (default "server")`)
	f.Bool("proxy-all", false, "with --dhcp-mode proxy, answer the PXE clients of unregistered MACs too (default: registered MACs only)")
	f.String("boot-files", "", "TFTP root holding the boot loaders (default DATA/boot, filled from Debian's ipxe, pxelinux, syslinux-common, syslinux-efi, shim-signed and grub-efi-amd64-signed packages)")
	f.String("address", "", "the appliance's IPv4 address as machines reach it (default: the --dhcp-interface's address in a registered subnet, else the first global address; 127.0.0.1 with --dev)")
	f.String("zone", "", `DNS zone of the hosts; default hostnames are NAME.ZONE (default "internal")`)
	f.String("log-format", "", `log format, text or json (default "text")`)
	f.String("power-poll", "", "how often every BMC's power state is read, for the timeline and /metrics (default 60s, or 0 with --dev; 0: never)")
	f.String("busybox", "", "static busybox that diskless boot environments carry (default /bin/busybox, from Debian's busybox-static)")
	f.String("zonecfg", "", "static zonecfg that diskless boot environments carry (default: next to this program, else on PATH)")
	f.String("agent", "", "static provision-agent that boot environments carry for discovery and inspection (default: next to this program, else on PATH, else none)")
	f.String("database", "", "the registry's PostgreSQL database, postgres://USER@HOST:PORT/DB, which several appliances may share (default: DATA/registry.db, SQLite); its password from --database-password-file, $PGPASSWORD or ~/.pgpass, never in the URL")
	f.String("database-password-file", "", "file holding the --database password")
	f.String("secret-key-file", "", "key that seals BMC passwords and build tokens in the database (default DATA/secret.key, created at first start)")
	f.String("name", "", "this appliance's name among those sharing a --database, in leases and boot events (default: the host name)")
	f.String("site", "", "serve DHCP for the subnets of this site (and those of none); default: only subnets of no site")
	f.StringSlice("peer", nil, "another appliance on the same --database whose image files this one fetches, http://HOST[:PORT] (repeatable)")
	f.StringArray("mirror", nil, "a package archive to cache for installers and installed systems, URL (served at /LAST-PATH-ELEMENT/, e.g. http://deb.debian.org/debian at /debian/) or NAME=URL (repeatable; default: the archives of this machine's apt sources; none: no cache)")
	f.String("mirror-dir", "", "the package cache's directory (default DATA/mirror)")
	f.String("mirror-size", "", `bound on the package cache's size on disk, least recently used files evicted (default "20GiB")`)
	f.String("mirror-index-ttl", "", `how long an index file (Release, Packages) whose upstream sends no ETag or Last-Modified is served before it is fetched again; with them it is revalidated on every request (default "30m")`)
	f.String("console-sessions", "", `machines' serial consoles (IPMI SOL) captured at once, during builds, inspections and when an operator asks; 0 or off: none (default 256, or off with --dev)`)
	f.String("console-dir", "", "where each system's recorded console is kept (default DATA/console)")
	f.Bool("dev", false, "development mode: 127.0.0.1 only, unprivileged ports, no root needed")
	return c
}
