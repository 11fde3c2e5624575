package images

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/provision/provision/internal/httpserve"
)

// BootConfig configures the boot handler.
type BootConfig struct {
	Hosts Hosts // required
	Blobs Blobs // required; a *Store
	// BaseURL is the appliance's URL as booting machines reach it, e.g.
	// "http://10.0.0.1:8080": scripts load the kernel and initrd from
	// BaseURL/images/... and pass it as provision.server=. When it is empty,
	// each script uses the URL its own request came to: "http://" (https://
	// over TLS) + the request's Host header, or + the local address the
	// connection arrived on when the request has no Host. That is the
	// address the machine has just reached, so it works on any interface;
	// set BaseURL when machines must use a name or a proxy instead.
	BaseURL string
	// OnEvent, if set, is called once per request to a boot route, after the
	// response is done, on the request's goroutine: it must not block.
	// registry.EventLog.Record is such a function.
	OnEvent func(BootEvent)
	Log     *slog.Logger     // once per request to a boot route; nil: discard
	Now     func() time.Time // time.Now when nil
}

// bootHandler serves the boot routes; it holds no state between requests
// but the small files it has read (blobCache).
type bootHandler struct {
	hosts   Hosts
	blobs   Blobs
	base    string
	onEvent func(BootEvent)
	log     *slog.Logger
	now     func() time.Time
	small   *blobCache // shared by the pinned copies
}

// route is a boot route: it answers and fills in the event's Host, MAC,
// Kind and Err. Its handler's hosts are pinned for the request.
type route func(b *bootHandler, w http.ResponseWriter, r *http.Request, ev *BootEvent)

// BootHandler returns the handler of the HTTP boot routes:
//
//	GET /boot.ipxe                 iPXE script of the system with the client's IP
//	GET /boot/<mac>.ipxe           iPXE script of the system with that MAC
//	GET /images/<image>/<role>     a file of an image: kernel, initrd, rootfs
//	GET /images/<image>/SHA256SUMS the image's files in sha256sum(1) format
//	POST /boot/event               a boot step reported by the host with the client's IP
//
// HEAD works wherever GET does. An unknown system, image or file gets 404
// with a one-line "# ..." body, so iPXE moves on to its next boot device; a
// malformed MAC or Host gets 400; a script that cannot be rendered, or a
// registered file missing from the store, gets 500.
func BootHandler(cfg BootConfig) (http.Handler, error) {
	if cfg.Hosts == nil || cfg.Blobs == nil {
		return nil, errors.New("images: BootConfig needs Hosts and Blobs")
	}
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	b := &bootHandler{hosts: cfg.Hosts, blobs: cfg.Blobs, base: base,
		onEvent: cfg.OnEvent, log: cfg.Log, now: cfg.Now, small: &blobCache{}}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boot.ipxe", b.track((*bootHandler).scriptByIP))
	mux.HandleFunc("GET /boot/{name}", b.track((*bootHandler).scriptByMAC))
	mux.HandleFunc("GET /images/{image}/{file}", b.track((*bootHandler).file))
	mux.HandleFunc("POST /boot/event", b.track((*bootHandler).report))
	return mux, nil
}

// BootPaths are the paths of BootHandler's routes: "/boot.ipxe" and
// everything under "/boot/" and "/images/", as http.ServeMux patterns. A
// server's mux must route them to the boot handler; they are the
// httpserve.Config.FastPaths of the boot handler as Config.Fast.
func BootPaths() []string { return []string{"/boot.ipxe", "/boot/", "/images/"} }

// checkBaseURL accepts an absolute http or https URL that can be written
// into a script, and drops its trailing slash.
func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("want http://HOST[:PORT][/PATH]")
	}
	if err == nil {
		err = checkWord(s)
	}
	if err != nil {
		return "", fmt.Errorf("images: base URL %q: %w", s, err)
	}
	return strings.TrimRight(s, "/"), nil
}

// track runs a route with a recorder, then logs and reports the request.
func (b *bootHandler) track(fn route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ev := BootEvent{Time: b.now(), Method: r.Method, Path: r.URL.Path, Client: clientIP(r)}
		rec := &httpserve.Recorder{ResponseWriter: w}
		fn(b.pinned(), rec, r, &ev)
		ev.Duration = b.now().Sub(ev.Time)
		ev.Status, ev.Bytes = rec.Status(), rec.Bytes()
		if ev.Err == nil && rec.Err() != nil {
			ev.Err = fmt.Errorf("client went away after %d bytes: %w", rec.Bytes(), rec.Err())
		}
		b.logEvent(r, ev)
		if b.onEvent != nil {
			b.onEvent(ev)
		}
	}
}

// pinned is b with its hosts pinned to one version (SnapshotHosts), so
// that a registry change between two lookups of a request cannot mix two.
func (b *bootHandler) pinned() *bootHandler {
	if p, ok := b.hosts.(SnapshotHosts); ok {
		c := *b
		c.hosts = p.Snapshot()
		return &c
	}
	return b
}

// logEvent writes the request's line, as b.log.LogAttrs would, but with
// its PC (the source a handler may add) found once, not for every line.
func (b *bootHandler) logEvent(r *http.Request, ev BootEvent) {
	level := slog.LevelInfo
	if ev.Status >= 500 || ev.Err != nil && ev.Status < 400 {
		level = slog.LevelWarn
	}
	ctx := r.Context()
	h := b.log.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	pc := logPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(1, pcs[:]) // here, in logEvent
		pc = pcs[0]
		logPC.Store(pc)
	}
	rec := slog.NewRecord(time.Now(), level, "http boot", pc)
	rec.AddAttrs(slog.String("client", ev.Client.String()), slog.String("host", ev.Host),
		slog.String("mac", ev.MAC.String()), slog.String("kind", ev.Kind),
		slog.String("path", ev.Path), slog.Int("status", ev.Status),
		slog.Int64("bytes", ev.Bytes), slog.Duration("duration", ev.Duration),
		slog.Any("err", ev.Err))
	h.Handle(ctx, rec) // as Logger.LogAttrs, the error is dropped
}

// logPC is a PC in logEvent: the source of its lines, for a handler that
// adds it, as Logger.LogAttrs would record (the same function and file).
var logPC atomic.Uintptr

// fail answers an error with its status and a one-line iPXE comment. The
// body is generic: the error itself may quote registry values, and goes to
// the event and the log only.
func fail(w http.ResponseWriter, r *http.Request, ev *BootEvent, err error) {
	failCode(w, r, ev, statusOf(err), err)
}

func failCode(w http.ResponseWriter, r *http.Request, ev *BootEvent, code int, err error) {
	ev.Err = err
	msg := "# provision: " + strings.ToLower(http.StatusText(code)) + "\n"
	if code == http.StatusInternalServerError {
		msg = "# provision: internal error, see the appliance's log\n"
	}
	reply(w, r, code, "text/plain; charset=utf-8", []byte(msg))
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownHost), errors.Is(err, ErrUnknownImage), errors.Is(err, ErrUnknownFile):
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}

// reply sends a small body that must never be cached: scripts change
// when a system's netboot flag does.
func reply(w http.ResponseWriter, r *http.Request, code int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(body) // a write error is noted by the recorder
	}
}
