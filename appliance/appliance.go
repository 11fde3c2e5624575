package appliance

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/mirror"
	"github.com/provision/provision/registry"
)

// Appliance is the running server: what its servers and background loops
// share. Open builds it, with every listener open; Run serves until its
// context ends.
type Appliance struct {
	cfg     Config
	log     *slog.Logger
	tokens  *apitoken.Files // DATA/token (admin), DATA/token-read-only
	reg     *registry.Registry
	store   *registry.SQLStore
	blobs   *images.Store
	events  *registry.EventLog
	dynamic *registry.DynamicLog
	// seen is where DHCP saw each registered MAC: with the registered
	// IPs, it says which client is the machine itself, the only one its
	// build's token is handed to (bind.Seen).
	seen    bind.Seen
	metrics *prometheus.Registry
	// httpServers are the HTTP servers by listener ("boot", "api"), set
	// by Open, read by /metrics.
	httpServers map[string]*httpserve.Server
	httpURL     string // e.g. http://10.0.0.1:80, for boot scripts and DHCP
	power       *ipmi.Controller
	builds      *builds // the install lifecycle's power half
	bootenv     *bootenvBuilder
	consoles    *consoles     // the machines' serial consoles; nil when --console-sessions is off
	mirror      *mirror.Cache // the installers' package cache; nil without archives
	// bootMissing lists the boot loaders the TFTP root lacks (set by
	// Open, then only read): /healthz reports them.
	bootMissing []string
	// powerStates is the last poll of each system's BMC (name to on or
	// off), for the dashboard.
	powerStates sync.Map
	// apiCert is the API listener's certificate, read again on SIGHUP.
	apiCert atomic.Pointer[tls.Certificate]
	// servers are the socket loops Open prepared, each on a listener
	// already open; Run starts them. closers close those listeners when
	// Open fails half way.
	servers []func(ctx context.Context) error
	closers []io.Closer
	addrs   Addrs
}

// Addrs are the addresses the appliance listens on ("" for a server
// that is off): with port 0 in the Config, the ports the kernel gave.
type Addrs struct {
	HTTP, API, DNS, TFTP, DHCP string
}

// Addrs says where the appliance listens.
func (a *Appliance) Addrs() Addrs { return a.addrs }

// Registry is the appliance's registry, for benchmarks and tests that
// drive it in-process.
func (a *Appliance) Registry() *registry.Registry { return a.reg }

// NewLogger logs to w in the appliance's format (Config.LogFormat).
func NewLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// Open opens the data directory and the registry, builds every server
// and opens its listeners; Run serves them. A listener that cannot open,
// or a Config that Check refuses, fails Open, and nothing is left open.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (_ *Appliance, err error) {
	if err := cfg.Complete(); err != nil {
		return nil, err
	}
	a, err := open(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := a.events.LoadLatest(ctx); err != nil {
		log.Warn("the dashboard's last boots start empty", "err", err)
	}
	if a.cfg.addressFromInterface {
		// The DHCP interface's address in a registered subnet, if it has one.
		own, err := interfaceAddrs(a.cfg.DHCPInterface)
		if err != nil {
			return nil, err
		}
		a.cfg.Address = dhcpIdentity(own, a.reg.Snapshot()).String()
	}
	if ip, err := netip.ParseAddr(a.cfg.Address); err == nil {
		a.reg.ReserveAddresses(ip) // never an address that ip auto hands a machine
	}
	dnsSrv, err := a.newDNS()
	if err != nil {
		return nil, err
	}
	httpLn, err := a.listen("tcp", a.cfg.HTTP, "HTTP", "--http")
	if err != nil {
		return nil, err
	}
	a.addrs.HTTP = httpLn.Addr().String()
	// The URL machines use for scripts, kernels and images: the
	// appliance's address and the port HTTP really listens on.
	a.httpURL = "http://" + net.JoinHostPort(a.cfg.Address, strconv.Itoa(httpLn.Addr().(*net.TCPAddr).Port))
	// Events are kept by system identity: a rename keeps the timeline.
	a.events.SetIdentity(func(name string) string { id, _ := a.reg.Snapshot().SystemID(name); return id })
	a.events.OnWriteError(func(err error, lost int) {
		log.Error("boot events lost: the database write failed", "events", lost, "err", err)
	})
	a.dynamic.OnWriteError(func(err error, lost int) {
		log.Error("leases and sightings lost: the database write failed", "items", lost, "err", err)
	})
	dhcpSrv, err := a.startDHCP(ctx)
	if err != nil {
		return nil, err
	}
	a.metrics.MustRegister(&protocolMetrics{a: a, dns: dnsSrv, dhcp: dhcpSrv})
	if a.consoles != nil {
		a.metrics.MustRegister(consoleMetrics{a.consoles})
	}
	if err := a.startDNS(dnsSrv); err != nil {
		return nil, err
	}
	if a.bootMissing, err = fillBootFiles(a.cfg.BootFiles, bootLoaders); err != nil {
		return nil, err
	}
	for _, m := range a.bootMissing {
		log.Warn(m) // and /healthz says so
	}
	if err := a.startTFTP(); err != nil {
		return nil, err
	}
	var apiLn net.Listener
	if a.cfg.API != "" {
		if apiLn, err = a.listenAPI(); err != nil {
			return nil, err
		}
	}
	if a.mirror, err = a.openMirror(); err != nil {
		return nil, err
	}
	if err := a.startHTTP(httpLn, apiLn, dnsSrv); err != nil {
		return nil, err
	}
	return a, nil
}

// open makes the data directory, its API tokens and secret key, and
// opens the store, the registry and the image store.
func open(ctx context.Context, cfg Config, log *slog.Logger) (*Appliance, error) {
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
	a := &Appliance{cfg: cfg, log: log, tokens: &apitoken.Files{Dir: cfg.Data}, reg: reg, store: store, blobs: blobs,
		events: events, dynamic: registry.NewDynamicLog(store), metrics: prometheus.NewRegistry(), httpServers: map[string]*httpserve.Server{},
		power:   &ipmi.Controller{},
		bootenv: &bootenvBuilder{busybox: cfg.Busybox, zonecfg: cfg.Zonecfg, agent: cfg.Agent, blobs: blobs, tmp: filepath.Join(cfg.Data, "images", "tmp")}}
	a.builds = newBuilds(reg, events, a.power, log)
	if a.consoles, err = openConsoles(cfg, reg, events, log); err != nil {
		reg.Close()
		return nil, err
	}
	reg.SetEvents(events.Record) // discovery's events: machines found, rules, BMC enrolments
	return a, nil
}

// Run serves until ctx ends (SIGTERM, SIGINT), then stops every server
// and background loop, writes what is pending and closes the registry.
// The first server that fails stops them all, and its error is Run's.
func (a *Appliance) Run(ctx context.Context) error {
	defer a.reg.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.events.Run(ctx) })
	g.Go(func() error { return a.dynamic.Run(ctx) })
	g.Go(func() error { return a.builds.Run(ctx) })
	g.Go(func() error { return a.pollPower(ctx) })
	if a.consoles != nil {
		g.Go(func() error { return a.consoles.Run(ctx) })
	}
	g.Go(func() error { return a.serveHooks(ctx) })
	g.Go(func() error { a.refreshBootenvs(ctx); return nil })
	g.Go(func() error { a.syncPeers(ctx); return nil })
	for _, serve := range a.servers {
		g.Go(func() error { return serve(ctx) })
	}
	// Other appliances' commits to a shared database (PostgreSQL), once
	// every subscriber of the Snapshot is registered (by Open).
	g.Go(func() error { a.reg.Follow(ctx); return nil })
	a.log.Info("ready", "name", a.cfg.Name, "site", a.cfg.Site, "data", a.cfg.Data, "zone", a.cfg.Zone, "address", a.cfg.Address, "dev", a.cfg.Dev)
	a.notify("READY=1\nSTATUS=serving " + a.cfg.Zone + " as " + a.cfg.Name)
	g.Go(func() error { a.reloadOnHUP(ctx); return nil })
	go func() {
		<-ctx.Done()
		a.notify("STOPPING=1\nSTATUS=stopping: writing what is pending")
	}()
	err := g.Wait()
	a.log.Info("stopped", "err", err)
	return err
}

// serve adds a socket loop for Run to start.
func (a *Appliance) serve(f func(ctx context.Context) error) { a.servers = append(a.servers, f) }

// Close releases what Open opened (its listeners and the registry), for
// an Appliance that is not Run; Run releases them itself.
func (a *Appliance) Close() {
	for _, c := range a.closers {
		c.Close()
	}
	a.reg.Close()
}

// listen opens a TCP listener, closed if Open fails later.
func (a *Appliance) listen(network, addr, what, flag string) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, listenError(what, flag, addr, err)
	}
	a.closers = append(a.closers, ln)
	return ln, nil
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
		return nil, fmt.Errorf("%w (database %s)", err, RedactDatabase(cfg.Database))
	}
	log.Info("registry: on PostgreSQL", "database", RedactDatabase(cfg.Database))
	st.SetLogger(log)
	return st, nil
}

// RedactDatabase is a database URL without its user's password.
func RedactDatabase(dsn string) string {
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
