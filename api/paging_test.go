package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// GET /api/v1/discovered answers a page at a time (at most
// discoveredPage machines), and Pages follows the Link to the end.
func TestDiscoveredPages(t *testing.T) {
	reg, st := registrytest.OpenStore(t, registrytest.Zone)
	n := discoveredPage + 250
	var seen []registry.Discovered
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		seen = append(seen, registry.Discovered{MAC: fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8, i&0xff), IP: "10.0.0.200", Subnet: "lan", FirstSeen: at, LastSeen: at})
	}
	if err := st.SaveDynamic(context.Background(), nil, seen); err != nil {
		t.Fatal(err)
	}
	h := Handler(Config{Registry: reg, Dynamic: registry.NewDynamicLog(st), Auth: Tokens("tok", "ro"), Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})
	srv := httptest.NewServer(validated(t, h))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "ro"}

	var first []registry.Discovered
	if err := c.Do(context.Background(), "GET", Path("discovered")+"?limit=100000", nil, &first); err != nil {
		t.Fatal(err)
	}
	if len(first) != discoveredPage {
		t.Errorf("one request for 100,000: %d machines, want the cap %d", len(first), discoveredPage)
	}
	var all []registry.Discovered
	pages := 0
	err := Pages(context.Background(), c, Path("discovered")+"?limit=400", func(p []registry.Discovered) bool {
		pages++
		all = append(all, p...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	macs := map[string]bool{}
	for i, d := range all {
		macs[d.MAC] = true
		if i > 0 && d.LastSeen.After(all[i-1].LastSeen) {
			t.Fatalf("page order: %s after %s", d.LastSeen, all[i-1].LastSeen)
		}
	}
	if len(all) != n || len(macs) != n || pages != 4 {
		t.Errorf("followed %d pages: %d machines (%d distinct), want %d in 4 pages", pages, len(all), len(macs), n)
	}
}

// GET /api/v1/history caps its limit at historyMax and names the page
// before with ?before=ID.
func TestHistoryPages(t *testing.T) {
	srv := newTestServer(t)
	c := &Client{BaseURL: srv.URL, Token: "tok"}
	for i := range 25 {
		if err := c.Do(context.Background(), "PUT", Path("settings", "k"), map[string]string{"value": fmt.Sprint(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := 0
	err := Pages(context.Background(), c, Path("history")+"?name=k&limit=10", func(p []registry.Change) bool {
		pages++
		var page []string
		for _, ch := range p {
			page = append(page, ch.New)
		}
		got = append(page, got...)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf(`{"key":"k","value":"%d"}`, i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Errorf("history of k in pages of 10: %d pages %q, want 3 pages %q", pages, got, want)
	}
	// A limit over the cap is answered with the cap, not refused.
	var h []registry.Change
	if err := c.Do(context.Background(), "GET", Path("history")+"?limit=1000000", nil, &h); err != nil || len(h) != 25 {
		t.Errorf("limit over the cap: %d records, %v", len(h), err)
	}
}
