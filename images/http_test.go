package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newHandler returns the fixture's boot handler and the log of its events.
func newHandler(t testing.TB, f *fixture, base string) (http.Handler, *eventLog) {
	t.Helper()
	log := &eventLog{}
	h, err := BootHandler(BootConfig{Hosts: f.hosts, Blobs: f.store, BaseURL: base, OnEvent: log.report})
	if err != nil {
		t.Fatal(err)
	}
	return h, log
}

// get serves one request from client (an IP:port) with extra headers,
// arriving at the appliance's 10.0.0.1:8080.
func get(h http.Handler, method, target, client string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "10.0.0.1:8080"
	r.RemoteAddr = client
	local := &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8080}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScriptRoutes(t *testing.T) {
	f := newFixture(t)
	h, events := newHandler(t, f, "")
	web, local := golden(t, "web01.ipxe"), golden(t, "db01-local.ipxe")
	tests := []struct {
		name, path, client string
		code               int
		body               string // exact, or a prefix when it ends in "…"
		host, mac          string // the event's
	}{
		{"by source IP", "/boot.ipxe", "10.0.0.11:3000", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"by IPv4-mapped source", "/boot.ipxe", "[::ffff:10.0.0.11]:3000", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"netboot off", "/boot.ipxe", "10.0.0.12:3000", 200, local, "db01", "52:54:00:aa:bb:02"},
		{"unknown IP", "/boot.ipxe", "10.0.0.99:3000", 404, "# provision: not found\n", "", ""},
		{"MAC canonical", "/boot/52:54:00:aa:bb:01.ipxe", "10.0.0.50:1", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"MAC upper case", "/boot/52:54:00:AA:BB:01.ipxe", "10.0.0.50:1", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"MAC hyphens", "/boot/52-54-00-AA-BB-01.ipxe", "10.0.0.50:1", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"MAC dotted", "/boot/5254.00aa.bb01.ipxe", "10.0.0.50:1", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"MAC bare", "/boot/525400AABB01.ipxe", "10.0.0.50:1", 200, web, "web01", "52:54:00:aa:bb:01"},
		{"MAC netboot off", "/boot/52:54:00:aa:bb:02.ipxe", "10.0.0.50:1", 200, local, "db01", "52:54:00:aa:bb:02"},
		{"MAC unknown", "/boot/52:54:00:aa:bb:99.ipxe", "10.0.0.50:1", 404, "# provision: not found\n", "", "52:54:00:aa:bb:99"},
		{"MAC malformed", "/boot/52:54:00:aa:bb.ipxe", "10.0.0.50:1", 400, "# provision: bad request\n", "", ""},
		{"MAC EUI-64", "/boot/02:00:00:00:00:00:00:01.ipxe", "10.0.0.50:1", 400, "# provision: bad request\n", "", ""},
		{"MAC without .ipxe", "/boot/52:54:00:aa:bb:01", "10.0.0.50:1", 404, "# provision: not found\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, "GET", tt.path, tt.client)
			if w.Code != tt.code || w.Body.String() != tt.body {
				t.Errorf("GET %s from %s = %d\n%s\nwant %d\n%s", tt.path, tt.client, w.Code, w.Body, tt.code, tt.body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			evs := events.take()
			if len(evs) != 1 {
				t.Fatalf("events %+v, want one", evs)
			}
			ev := evs[0]
			got := []any{ev.Kind, ev.Host, ev.MAC.String(), ev.Path, ev.Status, ev.Bytes}
			want := []any{KindScript, tt.host, tt.mac, tt.path, tt.code, int64(len(tt.body))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			if (ev.Err == nil) != (tt.code == 200) {
				t.Errorf("event error %v with status %d", ev.Err, tt.code)
			}
		})
	}
}

// TestScriptServerURL: provision.server= and the file URLs follow the
// appliance's address the connection arrived at, unless a base URL is
// configured; the Host header, the client's to choose, is never used.
func TestScriptServerURL(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, base, host, local string
		code                    int
		want                    string
	}{
		{"from the local address", "", "192.168.7.1:8080", "192.168.7.1:8080", 200, "provision.server=http://192.168.7.1:8080 "},
		{"from an IPv6 local address", "", "[fd00::1]:81", "[fd00::1]:81", 200, "kernel http://[fd00::1]:81/images/centos9/kernel "},
		{"an IPv4-mapped local address", "", "", "[::ffff:192.168.7.1]:80", 200, "provision.server=http://192.168.7.1:80 "},
		{"configured", "http://boot.internal:8080/", "192.168.7.1:8080", "192.168.7.1:8080", 200, "provision.server=http://boot.internal:8080 "},
		{"another Host", "", "evil.example:80", "192.168.7.1:8080", 200, "provision.server=http://192.168.7.1:8080 "},
		{"a Host that is no word", "", "a${b}", "192.168.7.1:8080", 200, "provision.server=http://192.168.7.1:8080 "},
		{"no local address", "", "192.168.7.1:8080", "", 400, "# provision: bad request\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHandler(t, f, tt.base)
			r := httptest.NewRequest("GET", "/boot.ipxe", nil)
			r.Host, r.RemoteAddr = tt.host, "10.0.0.11:1"
			if tt.local != "" {
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(tt.local))))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) || strings.Contains(w.Body.String(), "evil") {
				t.Errorf("= %d\n%s\nwant %d with %q", w.Code, w.Body, tt.code, tt.want)
			}
		})
	}
}

func TestBootHandlerConfig(t *testing.T) {
	f := newFixture(t)
	for _, cfg := range []BootConfig{
		{Blobs: f.store},
		{Hosts: f.hosts},
		{Hosts: f.hosts, Blobs: f.store, BaseURL: "ftp://x"},
		{Hosts: f.hosts, Blobs: f.store, BaseURL: "10.0.0.1:8080"},
		{Hosts: f.hosts, Blobs: f.store, BaseURL: "http://a b"},
		{Hosts: f.hosts, Blobs: f.store, BaseURL: "http://x/${y}"},
	} {
		if _, err := BootHandler(cfg); err == nil {
			t.Errorf("BootHandler(%+v) accepted", cfg)
		}
	}
}

// TestScriptBrokenArgs: a system whose arguments cannot be written (the
// registry refuses its command line) gets a 500 that does not show them.
func TestScriptBrokenArgs(t *testing.T) {
	f := newFixture(t)
	bad := web01
	bad.Cmdline = func([]byte, string, net.HardwareAddr, string) ([]byte, error) {
		return nil, errors.New("profile web: kernel args: control character U+000A at byte 16")
	}
	f.hosts.add("10.0.0.11", bad)
	h, events := newHandler(t, f, "")
	w := get(h, "GET", "/boot.ipxe", "10.0.0.11:1")
	if w.Code != 500 || strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("= %d %q", w.Code, w.Body)
	}
	evs := events.take()
	if len(evs) != 1 || evs[0].Status != 500 || evs[0].Err == nil || strings.Contains(evs[0].Err.Error(), "hunter2") {
		t.Errorf("events %+v", evs)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	h, _ := newHandler(t, f, "")
	for _, p := range []string{"/boot.ipxe", "/images/centos9/kernel"} {
		if w := get(h, "POST", p, "10.0.0.11:1"); w.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d", p, w.Code)
		}
	}
	if w := get(h, "HEAD", "/boot.ipxe", "10.0.0.11:1"); w.Code != 200 || w.Body.Len() != 0 ||
		w.Header().Get("Content-Length") != fmt.Sprint(len(golden(t, "web01.ipxe"))) {
		t.Errorf("HEAD = %d, %d bytes, Content-Length %s", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
}

// TestScriptServerURLIsTheLocalAddress: the URLs in a script name the
// appliance's address that the connection came to, whatever the Host
// header says (none, or a name a rebinding page made point here).
func TestScriptServerURLIsTheLocalAddress(t *testing.T) {
	f := newFixture(t)
	h, _ := newHandler(t, f, "")
	for _, host := range []string{"", "rebind.attacker.example", "10.9.9.9:80"} {
		r := httptest.NewRequest("GET", "/boot.ipxe", nil)
		r.Host, r.RemoteAddr = host, "10.0.0.11:1"
		local := &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8080}
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if want := "provision.server=http://10.0.0.1:8080 "; w.Code != 200 || !strings.Contains(w.Body.String(), want) || host != "" && strings.Contains(w.Body.String(), host) {
			t.Errorf("Host %q: %d\n%s\nwant %q", host, w.Code, w.Body, want)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkBootHandler: the handler's own cost for a script and a small
// file, with the log line (slog's text handler, to io.Discard) and an
// event, as the appliance has them.
func BenchmarkBootHandler(b *testing.B) {
	f := newFixture(b)
	f.addImage(b, "tiny", KindKernel, []byte(strings.Repeat("t", 4096)))
	q := NewEventQueue(1024)
	go func() {
		for range q.Events() {
		}
	}()
	h, err := BootHandler(BootConfig{Hosts: f.hosts, Blobs: f.store, OnEvent: q.Report,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/boot.ipxe", "/images/tiny/kernel"} {
		b.Run(path, func(b *testing.B) {
			r := httptest.NewRequest("GET", path, nil)
			r.RemoteAddr = "10.0.0.11:1234"
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// TestBootLogLine: every boot request has its line, with the event's
// fields, and the source (for a handler that adds it) in the boot handler.
func TestBootLogLine(t *testing.T) {
	f := newFixture(t)
	var buf strings.Builder
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		if a.Key == slog.SourceKey {
			src := a.Value.Any().(*slog.Source)
			return slog.String("source", fmt.Sprintf("%s %s", src.Function, src.File[strings.LastIndex(src.File, "/")+1:]))
		}
		return a
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h, err := BootHandler(BootConfig{Hosts: f.hosts, Blobs: f.store, Now: func() time.Time { return at },
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime, AddSource: true}))})
	if err != nil {
		t.Fatal(err)
	}
	get(h, "GET", "/boot.ipxe", "10.0.0.11:1")
	get(h, "GET", "/images/centos9/nope", "10.0.0.99:1")
	want := fmt.Sprintf(`level=INFO source="github.com/provision/provision/images.(*bootHandler).logEvent http.go" msg="http boot" `+
		`client=10.0.0.11 host=web01 mac=52:54:00:aa:bb:01 kind=script path=/boot.ipxe status=200 bytes=%d duration=0s err=<nil>
level=INFO source="github.com/provision/provision/images.(*bootHandler).logEvent http.go" msg="http boot" `+
		`client=10.0.0.99 host="" mac="" kind="" path=/images/centos9/nope status=404 bytes=23 duration=0s `+
		`err="image \"centos9\", file \"nope\": images: the image has no such file"
`, len(golden(t, "web01.ipxe")))
	if buf.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// A build asked for by MAC from anywhere but the machine is withheld
// (Hosts decides): the script boots nothing, says why, and the event
// carries ErrWithheld naming the system and the client.
func TestScriptWithheld(t *testing.T) {
	f := newFixture(t)
	mac := mustMAC("52:54:00:00:00:99")
	f.hosts.byMAC[mac.String()] = Host{Name: "web09", Profile: "web", MAC: mac, Withheld: true}
	h, events := newHandler(t, f, "")
	w := get(h, "GET", "/boot/52-54-00-00-00-99.ipxe", "10.0.0.200:1")
	want := "#!ipxe\n# provision: web09 (52:54:00:00:00:99), profile web\n" +
		"echo provision: web09 is being installed: its build is handed only to its own address, not to this one\nexit\n"
	if w.Code != 200 || w.Body.String() != want {
		t.Errorf("= %d\n%s\nwant\n%s", w.Code, w.Body, want)
	}
	evs := events.take()
	if len(evs) != 1 || !errors.Is(evs[0].Err, ErrWithheld) || !strings.Contains(evs[0].Err.Error(), "web09 (10.0.0.200)") {
		t.Errorf("events %+v", evs)
	}
}
