package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/webhook"
)

// hookReceiver is a webhook receiver as an operator runs one: it checks
// each body's signature, answers 503 while down, and keeps what it took.
type hookReceiver struct {
	t      *testing.T
	secret registry.Secret
	srv    *httptest.Server
	down   atomic.Bool
	tries  atomic.Int64

	mu  sync.Mutex
	got []hookEvent
	ids map[string]bool // X-Provision-Delivery: repeats are counted once
}

type hookEvent struct {
	Event  string                `json:"event"`
	ID     int64                 `json:"delivery"`
	System struct{ Name string } `json:"system"`
	Change json.RawMessage       `json:"change"`
}

func newHookReceiver(t *testing.T) (*hookReceiver, string) {
	return newHookReceiverOn(t, nil)
}

// newHookReceiverOn is newHookReceiver on ln (nil: a loopback port of
// this process's namespace), e.g. a listener in a lab's server namespace.
func newHookReceiverOn(t *testing.T, ln net.Listener) (*hookReceiver, string) {
	rc := &hookReceiver{t: t, secret: "e2e-hook-secret", ids: map[string]bool{}}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	if ln != nil {
		rc.srv.Listener.Close()
		rc.srv.Listener = ln
	}
	rc.srv.Start()
	t.Cleanup(rc.srv.Close)
	file := filepath.Join(t.TempDir(), "hook.secret")
	os.WriteFile(file, []byte(rc.secret+"\n"), 0o600)
	return rc, file
}

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.tries.Add(1)
	body, _ := io.ReadAll(r.Body)
	if rc.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if !webhook.Verify(rc.secret, body, r.Header.Get("X-Provision-Signature")) {
		rc.t.Errorf("a delivery whose signature does not verify: %s", body)
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	var e hookEvent
	json.Unmarshal(body, &e)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if id := r.Header.Get("X-Provision-Delivery"); !rc.ids[id] {
		rc.ids[id] = true
		rc.got = append(rc.got, e)
	}
}

// waitFor waits up to d for cond over what arrived, and returns it.
func (rc *hookReceiver) waitFor(d time.Duration, cond func([]hookEvent) bool) []hookEvent {
	rc.t.Helper()
	deadline := time.Now().Add(d)
	for {
		rc.mu.Lock()
		got := append([]hookEvent(nil), rc.got...)
		rc.mu.Unlock()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("after %s the receiver has %d events", d, len(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An install through the real binary (the installer's callbacks from the
// machine's address, as a VM's installer makes them) reaches a hook,
// signed, in order: added, build started, build installed.
func TestHookInstallEventsInOrder(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	rc, secret := newHookReceiver(t)
	s.ok("hook", "add", "ci", "--url", rc.srv.URL, "--events", "system.added,build.started,build.installed,build.failed", "--secret-file", secret)
	if out := s.ok("hook", "test", "ci"); !strings.Contains(out, "took the test event") {
		t.Errorf("hook test: %s", out)
	}
	rc.mu.Lock()
	rc.got = nil // the test event
	rc.mu.Unlock()
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24")
	s.ok("system", "add", "web001", "--mac", "52:54:00:00:00:01", "--ip", "127.0.0.21", "--profile", "centos-db")
	tok := tokenOf(t, s, "52:54:00:00:00:01", "127.0.0.21")
	if code, _ := httpFrom(t, "127.0.0.21", "GET", s.URL+"/ks/"+tok, ""); code != 200 {
		t.Fatalf("GET /ks/TOKEN: %d", code)
	}
	waitStatus(t, s, "web001", "installing")
	if code, _ := httpFrom(t, "127.0.0.21", "POST", s.URL+"/ks/"+tok+"/done", ""); code != 200 {
		t.Fatalf("POST done: %d", code)
	}
	got := rc.waitFor(30*time.Second, func(g []hookEvent) bool { return len(g) >= 3 })
	var seq []string
	for _, e := range got {
		seq = append(seq, e.Event+" "+e.System.Name)
	}
	if want := "system.added web001,build.started web001,build.installed web001"; strings.Join(seq, ",") != want {
		t.Errorf("received %q, want %q", strings.Join(seq, ","), want)
	}
	if out := s.ok("hook", "deliveries", "ci"); strings.Count(out, "delivered") != 3 {
		t.Errorf("hook deliveries:\n%s", out)
	}
	if out := s.ok("hook", "show", "ci"); strings.Contains(out, string(rc.secret)) || !strings.Contains(out, "secret_set: true") {
		t.Errorf("hook show:\n%s", out)
	}
	if out := s.ok("export") + s.ok("history", "ci"); strings.Contains(out, string(rc.secret)) {
		t.Error("the hook's secret is in export or history")
	}
	s.fails(`event "system.exploded": not one of`, "hook", "add", "x", "--url", rc.srv.URL, "--events", "system.exploded")
	s.fails("http:// or https://", "hook", "add", "x", "--url", "file:///etc/passwd", "--events", "all")
	rc.down.Store(true)
	s.fails("hook ci: "+rc.srv.URL+" answered 503", "hook", "test", "ci")
	s.ok("hook", "remove", "ci")
	if out := s.ok("hook", "list"); strings.Contains(out, "ci") {
		t.Errorf("hook list after remove:\n%s", out)
	}
}

// kill -9 in a burst of 1,000 changes, restart: every system the
// registry has after the restart (every acknowledged add among them) has
// reached the receiver.
func TestHookKillDuringBurst(t *testing.T) {
	defer parallel(t)()
	data := t.TempDir()
	s := startServer(t, data)
	seed(t, s)
	rc, secret := newHookReceiver(t)
	s.ok("hook", "add", "burst", "--url", rc.srv.URL, "--events", "system.added", "--secret-file", secret)
	c := &api.Client{BaseURL: s.URL, Token: s.Token}
	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		s.ok("subnet", "add", fmt.Sprintf("burst%d", w), "--cidr", fmt.Sprintf("10.0.%d.0/24", 2+w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 125; i++ {
				name := fmt.Sprintf("w%d-%03d", w, i)
				in := api.SystemInput{System: registry.System{Name: name, MACs: []string{fmt.Sprintf("02:00:00:%02x:%02x:%02x", w, i/256, i%256)},
					IP: fmt.Sprintf("10.0.%d.%d", 2+w, 2+i), Profile: "centos-web"}}
				if err := c.Do(ctx, "POST", api.Path("systems"), in, nil); err == nil {
					mu.Lock()
					acked[name] = true
					mu.Unlock()
				}
			}
		}()
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 500 {
			break
		}
	}
	s.Kill()
	cancel()
	wg.Wait()
	rc.mu.Lock()
	before := len(rc.got)
	rc.mu.Unlock()
	s2 := startServer(t, data)
	var systems []registry.System
	if err := (&api.Client{BaseURL: s2.URL, Token: s2.Token}).Do(context.Background(), "GET", api.Path("systems"), nil, &systems); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, sys := range systems {
		want[sys.Name] = true
	}
	for name := range acked {
		if !want[name] {
			t.Fatalf("acknowledged system %s lost", name)
		}
	}
	start := time.Now()
	got := rc.waitFor(2*time.Minute, func(g []hookEvent) bool {
		seen := map[string]bool{}
		for _, e := range g {
			seen[e.System.Name] = true
		}
		for name := range want {
			if !seen[name] {
				return false
			}
		}
		return true
	})
	t.Logf("%d adds acknowledged before kill -9, %d systems after restart, %d delivered before the kill; all %d events arrived %s after the restart (%d deliveries, %d tries)",
		len(acked), len(want), before, len(want), time.Since(start).Round(time.Millisecond), len(got), rc.tries.Load())
	if len(got) != len(want) {
		t.Errorf("%d distinct deliveries for %d systems", len(got), len(want))
	}
}

// The receiver down for 60 s, then up: the real loop's tries back off
// (1 s, 2 s, 4 s... with jitter), and once it is up everything arrives,
// each system's events in order.
func TestHookReceiverDown60s(t *testing.T) {
	defer parallel(t)()
	if testing.Short() {
		t.Skip("a minute and more of real backoff")
	}
	s := startServer(t, t.TempDir())
	seed(t, s)
	rc, secret := newHookReceiver(t)
	rc.down.Store(true)
	s.ok("hook", "add", "late", "--url", rc.srv.URL, "--events", "all", "--secret-file", secret)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("web%03d", i)
		s.ok("system", "add", name, "--mac", fmt.Sprintf("02:00:00:00:00:%02x", i), "--ip", fmt.Sprintf("10.0.0.%d", 20+i), "--profile", "centos-web")
		s.ok("system", "edit", name, "--kernel-args", "quiet")
		want = append(want, "system.added "+name, "system.changed "+name)
	}
	time.Sleep(60 * time.Second)
	tries := rc.tries.Load()
	rc.down.Store(false)
	start := time.Now()
	// The first try after the receiver is back comes at the end of each
	// waiting delivery's backoff, drawn (full jitter) up to a ceiling that
	// doubles with every failed try: after a minute and more down it can
	// be a few minutes away (3 minutes once passed with 8 of 10 events).
	got := rc.waitFor(10*time.Minute, func(g []hookEvent) bool { return len(g) >= len(want) })
	t.Logf("%d tries in 60 s down (5 systems, backoff 1 s to 1 h); everything arrived %s after the receiver came up",
		tries, time.Since(start).Round(time.Millisecond))
	if tries > 5*10 {
		t.Errorf("%d tries in 60 s: the tries do not back off", tries)
	}
	per := map[string][]string{}
	for _, e := range got {
		per[e.System.Name] = append(per[e.System.Name], e.Event)
	}
	for i := range 5 {
		name := fmt.Sprintf("web%03d", i)
		if strings.Join(per[name], ",") != "system.added,system.changed" {
			t.Errorf("%s: received %v, want added then changed", name, per[name])
		}
	}
	if out := s.ok("hook", "deliveries", "late"); strings.Count(out, "delivered") != len(want) {
		t.Errorf("hook deliveries:\n%s", out)
	}
}

// events are the received events of one system, "EVENT" each, in order.
func (rc *hookReceiver) events(system string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.got {
		if e.System.Name == system {
			out = append(out, e.Event)
		}
	}
	return out
}
