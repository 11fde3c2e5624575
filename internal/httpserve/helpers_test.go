package httpserve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// bootPaths are the FastPaths of the tests: the boot routes' patterns.
var bootPaths = []string{"/boot.ipxe", "/boot/", "/images/"}

// fixture is a handler shaped as the appliance's boot handler
// (images.BootHandler), over files in a directory: the same kinds of
// answers (a small reply with its Content-Length, a file through
// http.ServeContent and sendfile, a small file from memory, a body read),
// through a Recorder, with an event for each request, so that the fast
// path and net/http can be compared on what they answer and report.
type fixture struct {
	dir     string
	files   map[string]string // "image/file" -> path
	content map[string][]byte // "image/file" -> bytes
	digest  map[string]string // "image/file" -> sha256, the ETag
}

// The fixture's systems: the client 127.0.0.1 and two MACs.
var fixtureHosts = map[string]string{"127.0.0.1": "local01", "52:54:00:aa:bb:01": "web01", "52:54:00:aa:bb:02": "db01"}

// smallFile: a file up to this size is served from memory, as the boot
// handler's small blobs are.
const smallFile = 64 << 10

// newFixture holds the image centos9: kernel, initrd and rootfs of about
// 100 kB.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), files: map[string]string{}, content: map[string][]byte{}, digest: map[string]string{}}
	for i, role := range []string{"kernel", "initrd", "rootfs"} {
		f.add(t, "centos9", role, randomBytes(uint64(i), 100_000+i*7919))
	}
	return f
}

// add stores data as file of image; it returns its digest.
func (f *fixture) add(t testing.TB, image, file string, data []byte) string {
	t.Helper()
	p := filepath.Join(f.dir, image+"."+file)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	key := image + "/" + file
	f.files[key], f.content[key], f.digest[key] = p, data, hex.EncodeToString(sum[:])
	return f.digest[key]
}

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// event is a request as the fixture reports it: all a handler sees of the
// connection, and what the Recorder noted.
type event struct {
	Method, Path, Proto, Host, Client, Local string
	Server                                   bool // the request's context has its *http.Server
	Status                                   int
	Bytes                                    int64
	Err                                      bool
	Step                                     string
}

// eventLog collects events; safe for concurrent use.
type eventLog struct {
	mu  sync.Mutex
	evs []event
}

func (l *eventLog) report(e event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) take() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

// handler is the fixture's boot handler, reporting to events.
func (f *fixture) handler(events *eventLog) http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, fn func(http.ResponseWriter, *http.Request, *event)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			ev := event{Method: r.Method, Path: r.URL.Path, Proto: r.Proto, Host: r.Host, Client: clientIP(r), Local: fmt.Sprint(local),
				Server: r.Context().Value(http.ServerContextKey) != nil}
			rec := &Recorder{ResponseWriter: w}
			fn(rec, r, &ev)
			ev.Status, ev.Bytes, ev.Err = rec.Status(), rec.Bytes(), rec.Err() != nil
			events.report(ev)
		})
	}
	route("GET /boot.ipxe", func(w http.ResponseWriter, r *http.Request, _ *event) {
		f.script(w, r, clientIP(r))
	})
	route("GET /boot/{name}", func(w http.ResponseWriter, r *http.Request, _ *event) {
		name, ok := strings.CutSuffix(r.PathValue("name"), ".ipxe")
		if !ok {
			reply(w, r, http.StatusNotFound, "# not found\n")
			return
		}
		mac, err := net.ParseMAC(name)
		if err != nil || len(mac) != 6 {
			reply(w, r, http.StatusBadRequest, "# bad request\n")
			return
		}
		f.script(w, r, mac.String())
	})
	route("GET /images/{image}/{file}", f.file)
	route("POST /boot/event", func(w http.ResponseWriter, r *http.Request, ev *event) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1024))
		step, _, _ := strings.Cut(string(body), "\n")
		if err != nil || !slices.Contains([]string{"booted", "failed"}, step) {
			reply(w, r, http.StatusBadRequest, "# bad request\n")
			return
		}
		ev.Step = step
		reply(w, r, http.StatusNoContent, "")
	})
	return mux
}

func clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ap.Addr().Unmap().String()
}

// script answers the script of the system key names, with the URL the
// request came to (its Host, else the local address), as the boot
// handler's.
func (f *fixture) script(w http.ResponseWriter, r *http.Request, key string) {
	name, ok := fixtureHosts[key]
	if !ok {
		reply(w, r, http.StatusNotFound, "# not found\n")
		return
	}
	server := r.Host
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && server == "" {
		server = a.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!ipxe\nkernel http://%s/images/centos9/kernel provision.host=%s %s || goto failed\n", server, name, strings.Repeat("x", 300))
	fmt.Fprintf(&b, "initrd http://%s/images/centos9/initrd || goto failed\nboot\n", server)
	reply(w, r, http.StatusOK, b.String())
}

// reply sends a small body with its length, as the boot handler's reply.
func reply(w http.ResponseWriter, r *http.Request, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// file serves an image's file as the boot handler does: SHA256SUMS and a
// file with a Range or a condition through http.ServeContent, a small file
// without from memory, a large one from its os.File (sendfile).
func (f *fixture) file(w http.ResponseWriter, r *http.Request, _ *event) {
	image, file := r.PathValue("image"), r.PathValue("file")
	if file == "SHA256SUMS" {
		var sums bytes.Buffer
		for _, k := range slices.Sorted(maps.Keys(f.digest)) {
			if im, role, _ := strings.Cut(k, "/"); im == image {
				fmt.Fprintf(&sums, "%s  %s\n", f.digest[k], role)
			}
		}
		if sums.Len() == 0 {
			reply(w, r, http.StatusNotFound, "# not found\n")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("ETag", `"sums-`+image+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(sums.Bytes()))
		return
	}
	key := image + "/" + file
	p, ok := f.files[key]
	if !ok {
		reply(w, r, http.StatusNotFound, "# not found\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+f.digest[key]+`"`)
	h.Set("Cache-Control", "no-cache")
	fl, err := os.Open(p)
	if err != nil {
		reply(w, r, http.StatusInternalServerError, "# internal error\n")
		return
	}
	defer fl.Close()
	fi, err := fl.Stat()
	if err != nil {
		reply(w, r, http.StatusInternalServerError, "# internal error\n")
		return
	}
	if data := f.content[key]; len(data) <= smallFile {
		if plainGet(r) {
			h.Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))
			h.Set("Accept-Ranges", "bytes")
			h.Set("Content-Length", strconv.Itoa(len(data)))
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				w.Write(data)
			}
			return
		}
		http.ServeContent(w, r, "", fi.ModTime(), bytes.NewReader(data))
		return
	}
	http.ServeContent(w, r, "", fi.ModTime(), fl)
}

// plainGet: a GET or HEAD that ServeContent answers 200 with the whole body.
func plainGet(r *http.Request) bool {
	for _, k := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
}

// siteServer is the fixture served on a loopback port.
type siteServer struct {
	addr   string
	srv    *Server
	events *eventLog
	fast   atomic.Int64 // requests Config.Fast answered
}

// startSite serves the fixture as the appliance serves its boot handler:
// a mux sending bootPaths to it, everything else to a handler of its own;
// with the fast path when fast (Config.Fast the fixture's handler, counted
// in fast), else through net/http alone. tune, if given, changes the
// Config.
func startSite(t testing.TB, f *fixture, fast bool, tune ...func(*Config)) *siteServer {
	t.Helper()
	s := &siteServer{events: &eventLog{}}
	boot := f.handler(s.events)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "other %s %s %s\n", r.Method, r.URL.Path, r.Proto)
	})
	for _, p := range bootPaths {
		mux.Handle(p, boot)
	}
	cfg := Config{Handler: mux}
	if fast {
		cfg.Fast = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.fast.Add(1)
			boot.ServeHTTP(w, r)
		})
		cfg.FastPaths = bootPaths
	}
	for _, fn := range tune {
		fn(&cfg)
	}
	s.srv = New(cfg)
	s.addr = serveOn(t, s.srv)
	return s
}

// serveOn serves srv on a new loopback port until the test ends; it
// returns the address.
func serveOn(t testing.TB, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, l) })
	return l.Addr().String()
}
