package appliance

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/webhook"
)

// The running appliance delivers a registry change (from its commit's
// outbox row) and a boot report (from the event log) to a hook, signed;
// /metrics counts the deliveries.
func TestApplianceDeliversHooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, devConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var mu sync.Mutex
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify("k", body, r.Header.Get("X-Provision-Signature")) {
			t.Errorf("unsigned: %s", body)
		}
		var doc struct{ Event string }
		json.Unmarshal(body, &doc)
		mu.Lock()
		got = append(got, doc.Event)
		mu.Unlock()
	}))
	defer rcv.Close()
	reg := a.Registry()
	for _, step := range []func() error{
		func() error {
			return reg.AddHook(ctx, registry.Hook{Name: "h", URL: rcv.URL, Events: []string{registry.HookAll}, Secret: "k"})
		},
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "127.0.0.0/8"})
			return err
		},
		func() error {
			_, err := reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
				"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}})
			return err
		},
		func() error { _, err := reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img"}); return err },
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "web01", MACs: []string{"52:54:00:00:00:01"}, IP: "127.0.0.1", Profile: "p"})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	a.events.Record(registry.Event{System: "web01", Kind: "booted", Detail: "the OS is up"})
	want := "system.added,booted"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		s := strings.Join(got, ",")
		mu.Unlock()
		if s == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver has %q, want %q", s, want)
		}
	}
	// The receiver has both before the appliance records the second as
	// delivered (its answer is read after the receiver's handler ran).
	token, _ := os.ReadFile(filepath.Join(a.cfg.Data, apitoken.FileName(apitoken.Admin)))
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest("GET", "http://"+a.Addrs().HTTP+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(body), "provision_webhook_queue 0") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(string(body), `provision_webhook_deliveries_total{state="delivered"} 2`) || !strings.Contains(string(body), "provision_webhook_queue 0") {
		t.Errorf("/metrics lacks the webhook counts:\n%s", grepLines(string(body), "webhook"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
