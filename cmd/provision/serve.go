package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

func newServe() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve [--dev] [--config FILE] [--data DIR] [--database URL] [--http ADDR] [--api ADDR [--tls-cert F --tls-key F]] [--dns ADDR] [--dns-forward IP,...] [--tftp ADDR] [--dhcp-interface IF [--dhcp-mode proxy [--proxy-all]]] [--zone ZONE]",
		Short: "Run the appliance",
		Long: `Run the appliance: the HTTP API, boot scripts and images, the DNS zone and its
data.cdb, and TFTP, all from one registry.

Configuration comes from the embedded defaults, then the YAML file given by
--config (keys: data, database, database_password_file, http, api, tls_cert, tls_key, dns, dns_forward, tftp, dhcp,
dhcp_interface, dhcp_mode, proxy_all, boot_files, address, zone, dev, log_format,
secret_key_file, power_poll, name, site, peers), then flags. DHCP runs only with
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
			return serve(ctx, cfg, newLogger(cfg.LogFormat, os.Stderr))
		},
	}
	f := c.Flags()
	f.String("config", "", "YAML configuration file")
	f.String("data", "", "data directory: database, image store, API token (default /var/lib/provision, or ./provision-data with --dev)")
	f.String("http", "", "HTTP listen address (default :80, or 127.0.0.1:8080 with --dev)")
	f.String("dns", "", "DNS listen address, UDP and TCP (default :53, or 127.0.0.1:8053 with --dev)")
	f.StringSlice("dns-forward", nil, "upstream resolvers IP[:PORT],... of names outside the zone, for registered subnets and this host (default: /etc/resolv.conf's name servers; none: refuse them)")
	f.String("tftp", "", "TFTP listen address (default :69, or 127.0.0.1:8069 with --dev)")
	f.String("api", "", "serve the API (and /metrics) here, over TLS, apart from the boot routes on --http (default: on --http, plain)")
	f.String("tls-cert", "", "certificate of the --api listener (PEM; default: a self-signed one made at first start in DATA/tls)")
	f.String("tls-key", "", "key of --tls-cert (PEM)")
	f.String("dhcp-interface", "", "serve DHCP on this interface (default: no DHCP)")
	f.String("dhcp", "", "DHCP listen address (default 0.0.0.0:67)")
	f.String("dhcp-mode", "", `server: hand out addresses and boot files; proxy: boot files only, beside the network's DHCP server (default "server")`)
	f.Bool("proxy-all", false, "with --dhcp-mode proxy, answer the PXE clients of unregistered MACs too (default: registered MACs only)")
	f.String("boot-files", "", "TFTP root holding the boot loaders (default DATA/boot, filled from Debian's ipxe, pxelinux, syslinux-common and syslinux-efi packages)")
	f.String("address", "", "the appliance's IPv4 address as machines reach it (default: the --dhcp-interface's address in a registered subnet, else the first global address; 127.0.0.1 with --dev)")
	f.String("zone", "", `DNS zone of the hosts; default hostnames are NAME.ZONE (default "internal")`)
	f.String("log-format", "", `log format, text or json (default "text")`)
	f.String("power-poll", "", "how often every BMC's power state is read, for the timeline and /metrics (default 60s, or 0 with --dev; 0: never)")
	f.String("busybox", "", "static busybox that diskless boot environments carry (default /bin/busybox, from Debian's busybox-static)")
	f.String("zonecfg", "", "static zonecfg that diskless boot environments carry (default: next to this program, else on PATH)")
	f.String("database", "", "the registry's PostgreSQL database, postgres://USER@HOST:PORT/DB, which several appliances may share (default: DATA/registry.db, SQLite); its password from --database-password-file, $PGPASSWORD or ~/.pgpass, never in the URL")
	f.String("database-password-file", "", "file holding the --database password")
	f.String("secret-key-file", "", "key that seals BMC passwords and build tokens in the database (default DATA/secret.key, created at first start)")
	f.String("name", "", "this appliance's name among those sharing a --database, in leases and boot events (default: the host name)")
	f.String("site", "", "serve DHCP for the subnets of this site (and those of none); default: only subnets of no site")
	f.StringSlice("peer", nil, "another appliance on the same --database whose image files this one fetches, http://HOST[:PORT] (repeatable)")
	f.Bool("dev", false, "development mode: 127.0.0.1 only, unprivileged ports, no root needed")
	return c
}

// newLogger logs to w in the appliance's format (--log-format).
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// appliance is what the servers share.
type appliance struct {
	cfg     Config
	log     *slog.Logger
	tokens  *apitoken.Files // DATA/token (admin), DATA/token-read-only
	reg     *registry.Registry
	store   *registry.SQLStore
	blobs   *images.Store
	events  *registry.EventLog
	dynamic *registry.DynamicLog
	metrics *prometheus.Registry
	httpURL string // e.g. http://10.0.0.1:80, for boot scripts and DHCP
	power   *ipmi.Controller
	bootenv *bootenvBuilder
	// bootMissing lists the boot loaders the TFTP root lacks (set at
	// start, before the HTTP server, then only read): /healthz reports them.
	bootMissing []string
	// powerStates is the last poll of each system's BMC (name to on or
	// off), for the dashboard.
	powerStates sync.Map
	// apiCert is the API listener's certificate, read again on SIGHUP.
	apiCert atomic.Pointer[tls.Certificate]
}

func openAppliance(ctx context.Context, cfg Config, log *slog.Logger) (*appliance, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, err
	}
	if err := apitoken.Ensure(cfg.Data); err != nil {
		return nil, fmt.Errorf("api tokens in %s: %w", cfg.Data, err)
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	key, err := secretKey(ctx, cfg.SecretKeyFile, store)
	if err == nil {
		if err = store.UseKey(ctx, key); err != nil {
			err = fmt.Errorf("secret key %s: %w", cfg.SecretKeyFile, err)
		}
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	reg, err := registry.Open(ctx, store, cfg.Zone)
	if err != nil {
		store.Close()
		return nil, err
	}
	blobs, err := images.NewStore(filepath.Join(cfg.Data, "images"))
	if err != nil {
		reg.Close()
		return nil, err
	}
	events := registry.NewEventLog(store, 200)
	events.SetAppliance(cfg.Name)
	return &appliance{cfg: cfg, log: log, tokens: &apitoken.Files{Dir: cfg.Data}, reg: reg, store: store, blobs: blobs,
		events: events, dynamic: registry.NewDynamicLog(store), metrics: prometheus.NewRegistry(),
		power:   &ipmi.Controller{},
		bootenv: &bootenvBuilder{busybox: cfg.Busybox, zonecfg: cfg.Zonecfg, blobs: blobs, tmp: filepath.Join(cfg.Data, "images", "tmp")}}, nil
}

func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	a, err := openAppliance(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.reg.Close()
	if err := a.events.LoadLatest(ctx); err != nil {
		log.Warn("the dashboard's last boots start empty", "err", err)
	}
	if cfg.addressFromInterface {
		// The DHCP interface's address in a registered subnet, if it has one.
		own, err := interfaceAddrs(cfg.DHCPInterface)
		if err != nil {
			return err
		}
		cfg.Address = dhcpIdentity(own, a.reg.Snapshot()).String()
		a.cfg.Address = cfg.Address
	}
	dnsSrv, err := a.newDNS()
	if err != nil {
		return err
	}
	httpLn, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return listenError("HTTP", "--http", cfg.HTTP, err)
	}
	// The URL machines use for scripts, kernels and images: the
	// appliance's address and the port HTTP really listens on.
	a.httpURL = "http://" + net.JoinHostPort(cfg.Address, strconv.Itoa(httpLn.Addr().(*net.TCPAddr).Port))
	g, ctx := errgroup.WithContext(ctx)
	// Events are kept by system identity: a rename keeps the timeline.
	a.events.SetIdentity(func(name string) string { id, _ := a.reg.Snapshot().SystemID(name); return id })
	a.events.OnWriteError(func(err error, lost int) {
		log.Error("boot events lost: the database write failed", "events", lost, "err", err)
	})
	a.dynamic.OnWriteError(func(err error, lost int) {
		log.Error("leases and sightings lost: the database write failed", "items", lost, "err", err)
	})
	g.Go(func() error { return a.events.Run(ctx) })
	g.Go(func() error { return a.dynamic.Run(ctx) })
	g.Go(func() error { return a.runDeadlines(ctx) })
	g.Go(func() error { return a.pollPower(ctx) })
	g.Go(func() error { a.refreshBootenvs(ctx); return nil })
	g.Go(func() error { a.syncPeers(ctx); return nil })
	dhcpSrv, err := a.startDHCP(ctx, g)
	if err != nil {
		return err
	}
	a.metrics.MustRegister(&protocolMetrics{a: a, dns: dnsSrv, dhcp: dhcpSrv})
	if err := a.startDNS(ctx, g, dnsSrv); err != nil {
		return err
	}
	if a.bootMissing, err = fillBootFiles(cfg.BootFiles, bootLoaders); err != nil {
		return err
	}
	for _, m := range a.bootMissing {
		log.Warn(m) // and /healthz says so
	}
	if err := a.startTFTP(ctx, g); err != nil {
		return err
	}
	var apiLn net.Listener
	if cfg.API != "" {
		if apiLn, err = a.listenAPI(); err != nil {
			return err
		}
	}
	if err := a.startHTTP(ctx, g, httpLn, apiLn, dnsSrv); err != nil {
		return err
	}
	// Other appliances' commits to a shared database (PostgreSQL), once
	// every subscriber of the Snapshot is registered.
	g.Go(func() error { a.reg.Follow(ctx); return nil })
	log.Info("ready", "name", cfg.Name, "site", cfg.Site, "data", cfg.Data, "zone", cfg.Zone, "address", cfg.Address, "dev", cfg.Dev)
	a.notify("READY=1\nSTATUS=serving " + cfg.Zone + " as " + cfg.Name)
	g.Go(func() error { a.reloadOnHUP(ctx); return nil })
	go func() {
		<-ctx.Done()
		a.notify("STOPPING=1\nSTATUS=stopping: writing what is pending")
	}()
	err = g.Wait()
	log.Info("stopped", "err", err)
	return err
}

// openStore opens the registry's Store: the PostgreSQL database of
// --database, or the SQLite file in the data directory. The log names the
// database without its password.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*registry.SQLStore, error) {
	if cfg.Database == "" {
		return registry.OpenSQLite(ctx, filepath.Join(cfg.Data, "registry.db"))
	}
	var password string
	if cfg.DatabasePasswordFile != "" {
		b, err := os.ReadFile(cfg.DatabasePasswordFile)
		if err != nil {
			return nil, fmt.Errorf("--database-password-file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	st, err := registry.OpenPostgresPassword(ctx, cfg.Database, password)
	if err != nil {
		return nil, fmt.Errorf("%w (database %s)", err, redactDatabase(cfg.Database))
	}
	log.Info("registry: on PostgreSQL", "database", redactDatabase(cfg.Database))
	st.SetLogger(log)
	return st, nil
}

// redactDatabase is a database URL without its user's password.
func redactDatabase(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	if strings.Contains(strings.ToLower(dsn), "password=") {
		return "(a key=value connection string with a password)"
	}
	return dsn
}
