package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/bind"
	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/discovery"
	"github.com/provision/provision/dnsconf"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/httpserve"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/tftp"
	"github.com/provision/provision/ui"
)

// startHTTP serves the boot scripts and images, the zone's data.cdb,
// /healthz and the installers' /ks on ln, and the API and /metrics on
// apiLn (TLS), or on ln too when apiLn is nil.
func (a *Appliance) startHTTP(ln, apiLn net.Listener, dnsSrv *dnsconf.Server) error {
	// The boot routes' lines (one a request) go through a LineWriter, so
	// that a request does not wait on stderr; closed when the server returns.
	lines := httpserve.NewLineWriter(os.Stderr)
	hosts := bind.NewBoot(a.reg, "")
	hosts.Seen = &a.seen
	boot, err := images.BootHandler(images.BootConfig{
		Hosts: hosts, Blobs: a.blobs, Log: NewLogger(a.cfg.LogFormat, lines), OnEvent: a.httpEvent,
	})
	if err != nil {
		lines.Close()
		return err
	}
	ks, err := kickstart.Handler(kickstart.HandlerConfig{
		Builds:    bind.Builds{Reg: a.reg, DNS: a.cfg.Address, Seen: &a.seen},
		ServerURL: images.RequestURL, OnEvent: a.installerEvent, Log: a.log, Mirrors: a.mirrorNames(),
	})
	if err != nil {
		lines.Close()
		return err
	}
	own := a.ownHosts() // the names the API and dashboard answer to
	apiHandler := api.Handler(api.Config{Registry: a.reg, Blobs: a.blobs, Events: a.events, Dynamic: a.dynamic, Auth: a.auth, Log: a.log, Metrics: a.metrics,
		BootURL: a.httpURL, DNS: a.cfg.Address, Mirrors: a.mirrorNames(), Power: a.power, Builds: a.builds, Inspect: a.builds.PowerForInspect, PrepareImage: a.bootenv.Prepare,
		AfterBulk: giveBackBulk, Health: func() []string { return a.bootMissing }, Hosts: own,
		Backup: a.writeBackup, Login: a.loginFunc(), LoginTTL: a.loginTTLOrDefault(), Console: a.consoleAPI(),
		PowerStates: func(system string) string {
			v, _ := a.powerStates.Load(system)
			s, _ := v.(string)
			return s
		}})
	// The dashboard is a client of the API, on the API's listener.
	dashboard := ui.Handler(ui.Config{API: apiHandler, Auth: a.auth, Log: a.log, Hosts: own, TLS: apiLn != nil, DirectoryLogin: a.cfg.LDAP != nil})
	apiAndUI := http.NewServeMux()
	apiAndUI.Handle("/ui/", dashboard)
	apiAndUI.Handle("/ui", dashboard)
	apiAndUI.Handle("/", apiHandler)
	mux := http.NewServeMux()
	if apiLn == nil {
		mux.Handle("/", apiAndUI)
		if ip, _, _ := strings.Cut(ln.Addr().String(), ":"); !net.ParseIP(ip).IsLoopback() {
			a.log.Warn("the API shares the boot listener, in plain HTTP: its tokens cross the network in clear text; give it a listener of its own with --api ADDR")
		}
	} else {
		mux.Handle("GET /healthz", apiHandler)
		mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the API is served on its own listener: "+a.apiURL(), http.StatusNotFound)
		})
		mux.HandleFunc("/ui/", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the dashboard is served on the API's own listener: "+a.apiURL()+"/ui/", http.StatusNotFound)
		})
		a.serveAPI(apiLn, apiAndUI)
	}
	ks = asActor("installer", ks) // its callbacks change the build's state
	mux.Handle("/ks", ks)         // installers: templates and callbacks, by build token
	mux.Handle("/ks/", ks)
	mux.Handle("GET /zone/data.cdb", dnsconf.CDBHandler(dnsSrv))
	a.mountMirror(mux) // installers' and installed systems' packages: /debian/, /debian-security/...
	// Inventory agents: unknown machines on discovery subnets, systems under inspection.
	agents := asActor("discovery", discovery.Handler(&discoveryBackend{reg: a.reg, power: a.power, builds: a.builds, consoles: a.consoles, log: a.log, check: 30 * time.Second}, a.log))
	for _, p := range discovery.Paths() {
		mux.Handle(p, agents)
	}
	for _, p := range images.BootPaths() {
		mux.Handle(p, boot)
	}
	// UEFI HTTP boot fetches its loader over HTTP (DHCP hands out its URL).
	loaders := os.DirFS(a.cfg.BootFiles)
	for _, l := range append(bootLoaders, bootLoader{name: dhcp.FileARM64}) {
		mux.HandleFunc("GET /"+l.name, func(w http.ResponseWriter, r *http.Request) {
			rec := &httpserve.Recorder{ResponseWriter: w}
			http.ServeFileFS(rec, r, loaders, l.name)
			a.loaderEvent(r, rec)
		})
	}
	a.log.Info("listening", "proto", "http", "addr", ln.Addr().String())
	hc := httpserve.Config{Handler: cleanPaths(mux), Fast: boot, FastPaths: images.BootPaths(), Log: a.log}
	if a.cfg.BootNetHTTP {
		hc.Fast, hc.FastPaths = nil, nil
	}
	if apiLn == nil { // boot traffic leaves the API and the dashboard connections of their own
		hc.Reserved = apiPaths()
	}
	srv := httpserve.New(hc)
	a.httpServers["boot"] = srv
	a.serve(func(ctx context.Context) error {
		defer lines.Close() // the lines of the last requests
		return srv.Serve(ctx, ln)
	})
	return nil
}

// apiPaths are the routes of the API and the dashboard (api.Handler's,
// ui.Handler's) on the boot listener they share: httpserve keeps
// connections for them that boot requests cannot take (Config.Reserved).
func apiPaths() []string { return []string{"/api/", "/ui/", "/ui", "/healthz", "/metrics"} }

// cleanPaths serves a request for a path with "//", "." or ".." as the
// clean path, where http.ServeMux would redirect: firmware follows no
// redirect, and shim fetching grubx64.efi over HTTP asks for
// "//grubx64.efi" when its own URL ends in "/".
func cleanPaths(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") && p != "/" {
			p += "/" // a directory stays one: /ui/ is not /ui
		}
		if p != r.URL.Path && r.Method != http.MethodConnect {
			r2 := *r
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r2.URL = &u
			r = &r2
		}
		h.ServeHTTP(w, r)
	})
}

// loaderEvent puts a boot loader fetched over HTTP (UEFI HTTP boot) on
// the timeline of the system at the client's address, as kind "loader".
func (a *Appliance) loaderEvent(r *http.Request, w *httpserve.Recorder) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return
	}
	if ev, ok := bind.LoaderEvent(a.reg.Snapshot(), ap.Addr(), r.Method, r.URL.Path, w.Status(), w.Bytes()); ok {
		a.events.Record(ev)
	}
}

// httpEvent turns an HTTP boot fetch into a boot event of its system.
func (a *Appliance) httpEvent(e images.BootEvent) {
	if ev, ok := bind.BootEvent(e); ok {
		a.events.Record(ev)
	}
}

// installerEvent puts an installer's request on its system's timeline;
// a failed build goes to the lifecycle (power off).
func (a *Appliance) installerEvent(e kickstart.Event) {
	a.events.Record(bind.InstallerEvent(e))
	if e.Kind == kickstart.EventFailed {
		a.builds.BuildFailed(e.System)
	}
}

// startTFTP serves the boot files and generated per-host configs.
func (a *Appliance) startTFTP() error {
	if a.cfg.TFTP == "" {
		return nil
	}
	srv, err := tftp.New(tftp.Config{Root: a.cfg.BootFiles, Hosts: bind.Boot{Reg: a.reg, BaseURL: a.httpURL, Seen: &a.seen}, Images: bind.TFTPImages{Files: bind.NewBoot(a.reg, ""), Blobs: a.blobs},
		Timeout: 2 * time.Second, MaxPerClient: a.cfg.TFTPMaxPerClient, OnTransfer: a.tftpEvent, Log: a.log})
	if err != nil {
		return err
	}
	addr, err := net.ResolveUDPAddr("udp", a.cfg.TFTP)
	if err != nil {
		return listenError("TFTP", "--tftp", a.cfg.TFTP, err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return listenError("TFTP", "--tftp", a.cfg.TFTP, err)
	}
	a.closers = append(a.closers, conn)
	a.addrs.TFTP = conn.LocalAddr().String()
	a.log.Info("listening", "proto", "tftp", "addr", conn.LocalAddr().String(), "root", a.cfg.BootFiles)
	a.serve(func(ctx context.Context) error { return srv.Serve(ctx, conn) })
	return nil
}

func (a *Appliance) tftpEvent(t tftp.Transfer) {
	if ev, ok := bind.TFTPEvent(a.reg.Snapshot(), t); ok {
		a.events.Record(ev)
	}
}

// bootLoader is a boot file the TFTP root should hold, and where Debian
// installs it.
type bootLoader struct{ name, src, pkg string }

// bootLoaders are copied into the TFTP root from Debian's packages when
// they are missing there: every file DHCP hands out (package dhcp's
// File* names) and what those load from the same directory. A profile
// with loader pxelinux gives BIOS lpxelinux.0 (not pxelinux.0: the
// generated configs name HTTP URLs), which loads ldlinux.c32, and UEFI PXE
// syslinux.efi, which loads ldlinux.e64. A profile with loader grub gives
// UEFI Debian's signed network GRUB as grubx64.efi, behind shimx64.efi
// for Secure Boot (shim loads grubx64.efi from its own directory). Like
// the others they are wanted
// whether or not a profile uses them now: one missing is logged at start
// and named by /healthz.
var bootLoaders = []bootLoader{
	{dhcp.FileBIOS, "/usr/lib/ipxe/undionly.kpxe", "ipxe"},
	{dhcp.FileUEFI, "/usr/lib/ipxe/ipxe.efi", "ipxe"},
	{dhcp.FilePXELinux, "/usr/lib/PXELINUX/lpxelinux.0", "pxelinux"},
	{"ldlinux.c32", "/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common"},
	{dhcp.FileSyslinuxEFI, "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi", "syslinux-efi"},
	{"ldlinux.e64", "/usr/lib/syslinux/modules/efi64/ldlinux.e64", "syslinux-common"},
	{dhcp.FileGRUB, "/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", "grub-efi-amd64-signed"},
	{dhcp.FileShim, "/usr/lib/shim/shimx64.efi.signed", "shim-signed"},
}

// fillBootFiles copies the loaders missing from dir, and returns those
// still missing afterwards, each with the reason: its package is not
// installed, or the copy failed.
func fillBootFiles(dir string, loaders []bootLoader) (missing []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, l := range loaders {
		dst := filepath.Join(dir, l.name)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		switch err := copyFile(l.src, dst); {
		case err == nil:
		case errors.Is(err, os.ErrNotExist):
			missing = append(missing, fmt.Sprintf("boot file %s is missing: no %s (apt-get install %s)", l.name, l.src, l.pkg))
		default:
			missing = append(missing, fmt.Sprintf("boot file %s is missing: copying %s: %v", l.name, l.src, err))
		}
	}
	return missing, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(dst+".tmp", dst)
}
