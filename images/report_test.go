package images

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func post(h http.Handler, target, client, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	r.RemoteAddr = client
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestReportRoute(t *testing.T) {
	f := newFixture(t)
	h, events := newHandler(t, f, "")
	tests := []struct {
		name, client, body string
		code               int
		step, detail       string
	}{
		{"step", "10.0.0.11:4000", "rootfs fetched\n1065637 bytes in 1s\n", 204, "rootfs fetched", "1065637 bytes in 1s"},
		{"no detail", "10.0.0.11:4000", "booted", 204, "booted", ""},
		{"control characters", "10.0.0.11:4000", "hook failed\n/etc/x\x1b[31m exit\t3", 204, "hook failed", "/etc/x [31m exit 3"},
		{"long detail", "10.0.0.11:4000", "failed\n" + strings.Repeat("é", 300), 204, "failed", strings.Repeat("é", 100) + "…"},
		{"unknown step", "10.0.0.11:4000", "pwned\nx", 400, "", ""},
		{"unknown host", "10.9.9.9:4000", "booted\n", 404, "", ""},
		{"oversized", "10.0.0.11:4000", "booted\n" + strings.Repeat("x", 2000), 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(h, "/boot/event", tt.client, tt.body)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			evs := events.take()
			if len(evs) != 1 || evs[0].Kind != KindReport {
				t.Fatalf("events %+v", evs)
			}
			if evs[0].Step != tt.step || evs[0].Detail != tt.detail {
				t.Errorf("step %q detail %q, want %q %q", evs[0].Step, evs[0].Detail, tt.step, tt.detail)
			}
			if tt.code == 204 && evs[0].Host != "web01" {
				t.Errorf("host %q, want web01", evs[0].Host)
			}
		})
	}
	if w := get(h, "GET", "/boot/event", "10.0.0.11:4000"); w.Code == 204 {
		t.Error("GET /boot/event took a report")
	}
}

// pinnedHosts counts Snapshot calls and answers from the hosts it pins.
type pinnedHosts struct {
	*fakeHosts
	pins  int
	calls *int
}

func (p *pinnedHosts) Snapshot() Hosts { p.pins++; return countingHosts{p.fakeHosts, p.calls} }

// countingHosts counts the lookups made on a pinned version.
type countingHosts struct {
	*fakeHosts
	calls *int
}

func (c countingHosts) HostByIP(ip netip.Addr) (Host, bool) {
	*c.calls++
	return c.fakeHosts.HostByIP(ip)
}
func (c countingHosts) ImageFiles(image string) (map[string]string, bool) {
	*c.calls++
	return c.fakeHosts.ImageFiles(image)
}

// A request's lookups all go to the one version pinned for it.
func TestRequestPinsOneVersion(t *testing.T) {
	f := newFixture(t)
	calls := 0
	ph := &pinnedHosts{fakeHosts: f.hosts, calls: &calls}
	h, err := BootHandler(BootConfig{Hosts: ph, Blobs: f.store})
	if err != nil {
		t.Fatal(err)
	}
	if w := get(h, "GET", "/boot.ipxe", "10.0.0.11:4000"); w.Code != 200 {
		t.Fatalf("boot.ipxe: %d %s", w.Code, w.Body)
	}
	if ph.pins != 1 || calls < 2 {
		t.Errorf("one request pinned %d versions and made %d lookups on them; want 1 version, both lookups on it", ph.pins, calls)
	}
}
