package images

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

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

// get serves one request from client (an IP:port) with extra headers.
func get(h http.Handler, method, target, client string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Host = "10.0.0.1:8080"
	r.RemoteAddr = client
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

// TestScriptServerURL: provision.server= and the file URLs follow the Host
// the machine reached, unless a base URL is configured.
func TestScriptServerURL(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, base, host string
		code             int
		want             string
	}{
		{"from Host", "", "192.168.7.1:8080", 200, "provision.server=http://192.168.7.1:8080 "},
		{"from IPv6 Host", "", "[fd00::1]:81", 200, "kernel http://[fd00::1]:81/images/centos9/kernel "},
		{"configured", "http://boot.internal:8080/", "192.168.7.1:8080", 200, "provision.server=http://boot.internal:8080 "},
		{"bad Host", "", "a${b}", 400, "# provision: bad request\n"},
		{"Host with a path", "", "a/b", 400, "# provision: bad request\n"},
		{"Host too long", "", strings.Repeat("a", 300), 400, "# provision: bad request\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHandler(t, f, tt.base)
			r := httptest.NewRequest("GET", "/boot.ipxe", nil)
			r.Host, r.RemoteAddr = tt.host, "10.0.0.11:1"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
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

// TestScriptBrokenArgs: a system whose arguments cannot be written gets a
// 500 that does not show them.
func TestScriptBrokenArgs(t *testing.T) {
	f := newFixture(t)
	bad := web01
	bad.KernelArgs = "password=hunter2\nshell"
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

// TestScriptServerURLWithoutHost: an HTTP/1.0 request without Host gets
// the local address the connection came to.
func TestScriptServerURLWithoutHost(t *testing.T) {
	f := newFixture(t)
	h, _ := newHandler(t, f, "")
	r := httptest.NewRequest("GET", "/boot.ipxe", nil)
	r.Host, r.RemoteAddr = "", "10.0.0.11:1"
	local := &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8080}
	r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if want := "provision.server=http://10.0.0.1:8080 "; w.Code != 200 || !strings.Contains(w.Body.String(), want) {
		t.Errorf("= %d\n%s\nwant %q", w.Code, w.Body, want)
	}
}
