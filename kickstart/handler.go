package kickstart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/provision/provision/internal/textsafe"
)

// Build is a build under way, as the template handler sees it.
type Build struct {
	System   string // system name: events and logs name it, never the token
	Token    string
	Template string // the profile's template
	Set      *Set   // the templates at the time of the request
	Data     Data   // without URLs: the handler fills them in
	Since    string // when the build was requested: part of NoCloud's instance-id
}

// Builds finds builds under way and records their progress;
// The bind package adapts the registry to it. ByToken and ByIP are called on
// every request and must not block on I/O.
type Builds interface {
	// ByToken finds the build of token, as asked for from client: a
	// token presented from any address but its machine's own is refused
	// (false), like an unknown one.
	ByToken(token string, client netip.Addr) (Build, bool)
	ByIP(ip netip.Addr) (Build, bool)
	Started(ctx context.Context, token string) error // the template was fetched
	Done(ctx context.Context, token string) error
	Failed(ctx context.Context, token string, log []byte, size int64) error
}

// Event is one request of an installer, for the system's boot timeline.
type Event struct {
	Time   time.Time
	System string
	Client netip.Addr
	Kind   string // EventTemplate, EventDone or EventFailed
	Detail string
}

// Kinds of Event.
const (
	EventTemplate = "template" // the installer fetched its template
	EventDone     = "done"     // the installer reported success
	EventFailed   = "failed"   // the installer reported failure
)

// MaxLog is how much of a failed installer's log is kept: its last MaxLog
// bytes. maxLogRead bounds how much of a body is read at all.
const (
	MaxLog     = 64 << 10
	maxLogRead = 64 << 20
)

// HandlerConfig configures Handler.
type HandlerConfig struct {
	Builds Builds // required
	// ServerURL is the appliance's base URL as the requesting machine
	// reached it (no trailing slash), written into the template's URLs.
	ServerURL func(*http.Request) (string, error) // required
	OnEvent   func(Event)                         // optional; must not block
	Log       *slog.Logger                        // optional
	// Mirrors names the package archives the appliance caches (served
	// at /NAME/), for the templates' .URLs.Mirrors.
	Mirrors []string
}

type handler struct {
	HandlerConfig
}

// Handler serves the installers:
//
//	GET  /ks                      the template of the build of the system with the client's IP
//	GET  /ks/TOKEN                the build's rendered template
//	GET  /ks/TOKEN/user-data      the same (cloud-init NoCloud: ds=nocloud-net;s=/ks/TOKEN/)
//	GET  /ks/TOKEN/meta-data      NoCloud meta-data (instance-id, local-hostname)
//	GET  /ks/TOKEN/vendor-data    empty
//	POST /ks/TOKEN/done           the install succeeded; a body (MaxSummary bytes) is its summary
//	POST /ks/TOKEN/failed         the install failed; the body is the installer's log
//
// An unknown, used or expired token, a token presented from any address
// but its machine's, and a client IP with no build get 404 and a log line
// naming the client, never another host's template. done and failed
// change the system's state: POST only (a GET is 405). A template that
// fails to render is a 500. Tokens are never logged.
func Handler(cfg HandlerConfig) (http.Handler, error) {
	if cfg.Builds == nil || cfg.ServerURL == nil {
		return nil, errors.New("kickstart: HandlerConfig needs Builds and ServerURL")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ks", h.byIP)
	mux.HandleFunc("GET /ks/{token}", h.byToken)
	mux.HandleFunc("GET /ks/{token}/{file}", h.file)
	mux.HandleFunc("POST /ks/{token}/done", h.done)
	mux.HandleFunc("POST /ks/{token}/failed", h.failed)
	return mux, nil
}

func (h *handler) byIP(w http.ResponseWriter, r *http.Request) {
	b, ok := h.Builds.ByIP(clientIP(r))
	if !ok {
		h.refuse(w, r, "no build under way for this address")
		return
	}
	h.serve(w, r, b)
}

func (h *handler) byToken(w http.ResponseWriter, r *http.Request) {
	if b, ok := h.build(w, r); ok {
		h.serve(w, r, b)
	}
}

func (h *handler) file(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("file") {
	case "user-data":
		h.byToken(w, r)
	case "meta-data":
		if b, ok := h.build(w, r); ok {
			text(w, http.StatusOK, string(MetaData(b.Data, b.Since)))
		}
	case "vendor-data":
		if _, ok := h.build(w, r); ok {
			text(w, http.StatusOK, "")
		}
	case "done", "failed":
		w.Header().Set("Allow", http.MethodPost)
		text(w, http.StatusMethodNotAllowed, "# provision: "+r.PathValue("file")+" takes POST\n")
	default:
		text(w, http.StatusNotFound, "# provision: not found\n")
	}
}

// build looks the request's token up, answering 404 when it is unknown.
func (h *handler) build(w http.ResponseWriter, r *http.Request) (Build, bool) {
	b, ok := h.Builds.ByToken(r.PathValue("token"), clientIP(r))
	if !ok {
		h.refuse(w, r, "unknown, used or expired build token, or another system's")
	}
	return b, ok
}

// serve renders the build's template with this request's URLs.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, b Build) {
	server, err := h.ServerURL(r)
	if err != nil {
		h.Log.Warn("installer template", "system", b.System, "client", clientIP(r).String(), "err", err)
		text(w, http.StatusBadRequest, "# provision: bad request\n")
		return
	}
	d := b.Data
	d.URLs = BuildURLs(server, b.Data.Profile.Image, b.Token, h.Mirrors)
	out, err := b.Set.RenderContext(r.Context(), b.Template, d)
	if err != nil {
		h.Log.Error("installer template", "system", b.System, "template", b.Template, "err", err)
		text(w, http.StatusInternalServerError, "# provision: the template does not render, see the appliance's log\n")
		return
	}
	text(w, http.StatusOK, string(out))
	h.event(r, b.System, EventTemplate, fmt.Sprintf("%s %dB", b.Template, len(out)))
	h.Log.Info("installer template", "system", b.System, "template", b.Template, "client", clientIP(r).String(), "bytes", len(out))
	// The answer does not wait for the state change (and its fsync).
	go h.Builds.Started(context.WithoutCancel(r.Context()), b.Token)
}

// BuildURLs are the URLs of a build: its template, callbacks, script,
// image and the package archives (mirrors) the appliance caches, under
// server.
func BuildURLs(server, image, token string, mirrors []string) URLs {
	t := server + "/ks/" + token
	return URLs{Server: server, Script: server + "/boot.ipxe", Image: server + "/images/" + url.PathEscape(image),
		Template: t, Done: t + "/done", Failed: t + "/failed", Mirrors: MirrorURLs(server, mirrors)}
}

// MirrorURLs maps each archive name to its URL under server, or is nil
// without archives.
func MirrorURLs(server string, names []string) map[string]string {
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = server + "/" + n
	}
	return m
}

func (h *handler) done(w http.ResponseWriter, r *http.Request) {
	b, ok := h.build(w, r)
	if !ok {
		return
	}
	if err := h.Builds.Done(r.Context(), b.Token); err != nil {
		h.callbackError(w, r, b, EventDone, err)
		return
	}
	detail := "installed"
	if summary := doneSummary(r); summary != "" {
		detail += ": " + summary
	}
	h.event(r, b.System, EventDone, detail)
	h.Log.Info("installer done", "system", b.System, "client", clientIP(r).String(), "detail", detail)
	text(w, http.StatusOK, "ok: "+b.System+" is installed\n")
}

func (h *handler) failed(w http.ResponseWriter, r *http.Request) {
	b, ok := h.build(w, r)
	if !ok {
		return
	}
	log, size, err := readTail(r, MaxLog, maxLogRead)
	if err != nil {
		h.Log.Warn("installer failed: reading its log", "system", b.System, "err", err)
	}
	if err := h.Builds.Failed(r.Context(), b.Token, log, size); err != nil {
		h.callbackError(w, r, b, EventFailed, err)
		return
	}
	detail := fmt.Sprintf("log %dB", size)
	if cut := size - int64(len(log)); cut > 0 {
		detail += fmt.Sprintf(", first %dB cut", cut)
	}
	h.event(r, b.System, EventFailed, detail)
	h.Log.Warn("installer failed", "system", b.System, "client", clientIP(r).String(), "log_bytes", size)
	text(w, http.StatusOK, fmt.Sprintf("stored the last %d of %d bytes of the log of %s\n", len(log), size, b.System))
}

// MaxSummary bounds the summary a done callback may carry in its body
// (a deployer's: disk, partitions, bytes written, seconds).
const MaxSummary = 512

// doneSummary is the body of a done callback, its first MaxSummary bytes
// stripped of control characters: shown on the system's timeline.
func doneSummary(r *http.Request) string {
	b, _ := io.ReadAll(io.LimitReader(r.Body, MaxSummary))
	return strings.TrimSpace(textsafe.Strip(string(b)))
}

// callbackError answers a callback the registry refused: a token that
// ended meanwhile is a 404, anything else a 500.
func (h *handler) callbackError(w http.ResponseWriter, r *http.Request, b Build, kind string, err error) {
	h.Log.Warn("installer "+kind, "system", b.System, "client", clientIP(r).String(), "err", err)
	code := http.StatusInternalServerError
	if errors.Is(err, ErrNoBuild) {
		code = http.StatusNotFound
	}
	text(w, code, "# provision: "+http.StatusText(code)+"\n")
}

// ErrNoBuild is what Builds' callbacks return (wrapped) for a token whose
// build has ended.
var ErrNoBuild = errors.New("kickstart: no build under way with this token")

// refuse answers 404 and logs the refusal with the client's address.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, why string) {
	h.Log.Warn("installer refused", "client", clientIP(r).String(), "method", r.Method, "why", why)
	text(w, http.StatusNotFound, "# provision: no such build\n")
}

func (h *handler) event(r *http.Request, system, kind, detail string) {
	if h.OnEvent != nil {
		h.OnEvent(Event{Time: time.Now(), System: system, Client: clientIP(r), Kind: kind, Detail: detail})
	}
}

func text(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
