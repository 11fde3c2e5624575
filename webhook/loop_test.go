package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

const secret = registry.Secret("s3cret-for-tests")

// start runs a loop on r's outbox until the test ends.
func start(t *testing.T, r *registry.Registry, l *Loop) {
	o, err := r.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	l.Store, l.Owner = o, or(l.Owner, "test")
	l.Hook = func(n string) (*registry.Hook, bool) { return r.Snapshot().Hook(n) }
	l.Poll = or(l.Poll, 10*time.Millisecond)
	l.Errors = func(err error) { t.Errorf("loop: %v", err) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func addHook(t *testing.T, r *registry.Registry, url string, events ...string) {
	registrytest.Must(t, func() error {
		return r.AddHook(context.Background(), registry.Hook{Name: "rcv", URL: url, Events: events, Secret: secret})
	})
}

// A receiver checking signatures gets the events of the registry's
// changes, each system's in the order they were made.
func TestLoopDeliversInOrder(t *testing.T) {
	r := registrytest.Seeded(t)
	ctx := context.Background()
	rc := newReceiver(t, secret)
	addHook(t, r, rc.srv.URL, registry.HookAll)
	start(t, r, &Loop{Limit: 4})
	var want []string
	for i := range 20 {
		name := fmt.Sprintf("n%02d", i%5)
		if i < 5 {
			registrytest.Must(t, func() error {
				_, err := r.AddSystem(ctx, registry.System{Name: name, MACs: []string{fmt.Sprintf("aa:bb:cc:00:00:%02x", i)},
					IP: fmt.Sprintf("10.0.0.%d", 20+i), Profile: "web"})
				return err
			})
			want = append(want, "system.added "+name)
			continue
		}
		s, _ := r.Snapshot().SystemByName(name)
		e := s.Clone()
		e.KernelArgs = fmt.Sprintf("v=%d", i)
		registrytest.Must(t, func() error { _, err := r.EditSystem(ctx, name, e); return err })
		want = append(want, "system.changed "+name)
	}
	got := rc.wait(10*time.Second, func(g []received) bool { return len(g) >= len(want) })
	perSystem := func(lines []string) map[string]string {
		m := map[string]string{}
		for _, l := range lines {
			sys := l[strings.LastIndex(l, " ")+1:]
			m[sys] += l + ";"
		}
		return m
	}
	var lines []string
	for i, g := range got {
		lines = append(lines, g.Event+" "+g.System)
		if g.Event == registry.HookSystemChanged && !strings.Contains(string(g.Change), `"old"`) {
			t.Errorf("event %d has no old object: %s", i, g.Change)
		}
	}
	if fmt.Sprint(perSystem(lines)) != fmt.Sprint(perSystem(want)) || len(got) != len(want) {
		t.Errorf("received per system:\n%v\nwant:\n%v", perSystem(lines), perSystem(want))
	}
}

// The receiver down: every try fails and is retried with backoff; up
// again, everything arrives, in order.
func TestLoopReceiverDownThenUp(t *testing.T) {
	r := registrytest.Seeded(t)
	ctx := context.Background()
	rc := newReceiver(t, secret)
	rc.down.Store(true)
	addHook(t, r, rc.srv.URL, registry.HookPower)
	start(t, r, &Loop{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	for i := range 10 {
		registrytest.Must(t, func() error { return r.Notify(ctx, registry.HookPower, "web001", i) })
	}
	o, _ := r.Outbox()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _ := o.Deliveries(ctx, "rcv", 20)
		if len(ds) == 10 && ds[len(ds)-1].Attempts >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first delivery was not tried 3 times: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	tries := rc.tries
	rc.mu.Unlock()
	if tries > 40 {
		t.Errorf("%d tries while down: the waits do not back off (or later deliveries jumped the first)", tries)
	}
	rc.down.Store(false)
	got := rc.wait(10*time.Second, func(g []received) bool { return len(g) >= 10 })
	for i, g := range got {
		if string(g.Change) != fmt.Sprint(i) {
			t.Errorf("event %d carries %s: out of order", i, g.Change)
		}
	}
}

// A delivery failing for MaxAge is given up: dead, with its last error.
func TestLoopDeadLetter(t *testing.T) {
	r := registrytest.Seeded(t)
	ctx := context.Background()
	rc := newReceiver(t, secret)
	rc.down.Store(true)
	addHook(t, r, rc.srv.URL, registry.HookBooted)
	start(t, r, &Loop{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxAge: 100 * time.Millisecond})
	registrytest.Must(t, func() error { return r.Notify(ctx, registry.HookBooted, "web001", nil) })
	o, _ := r.Outbox()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _ := o.Deliveries(ctx, "rcv", 5)
		if len(ds) == 1 && ds[0].State == registry.DeliveryDead {
			// How many tries fit in MaxAge depends on the machine's load:
			// one, at least.
			if !strings.Contains(ds[0].LastError, "503") || ds[0].Attempts < 1 {
				t.Errorf("dead delivery: %+v", ds[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not dead: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A receiver that hangs holds PerHook slots and no more: another hook's
// events keep arriving.
func TestLoopHangingHookStarvesNoOther(t *testing.T) {
	r := registrytest.Seeded(t)
	ctx := context.Background()
	hang := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer stuck.Close()
	defer close(hang)
	registrytest.Must(t, func() error {
		return r.AddHook(ctx, registry.Hook{Name: "stuck", URL: stuck.URL, Events: []string{registry.HookPower}})
	})
	rc := newReceiver(t, secret)
	addHook(t, r, rc.srv.URL, registry.HookPower)
	start(t, r, &Loop{Limit: 4})
	for i := range 40 {
		registrytest.Must(t, func() error { return r.Notify(ctx, registry.HookPower, fmt.Sprintf("m%02d", i), i) })
	}
	rc.wait(10*time.Second, func(g []received) bool { return len(g) == 40 })
}
