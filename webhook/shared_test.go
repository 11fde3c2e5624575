package webhook

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// TestMain stops the PostgreSQL server, if a test started one.
func TestMain(m *testing.M) { pgtest.Main(m) }

// Three appliances on one PostgreSQL registry, each with its loop: every
// event reaches the receiver once (one of them delivers it), each
// system's in order.
func TestLoopsShareADatabase(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	open := func() *registry.Registry {
		st, err := registry.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		r, err := registry.Open(ctx, st, registrytest.Zone)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	first := open()
	rc := newReceiver(t, secret)
	addHook(t, first, rc.srv.URL, registry.HookPower)
	regs := []*registry.Registry{first, open(), open()}
	for i, r := range regs {
		start(t, r, &Loop{Limit: 4, Owner: fmt.Sprint("appliance", i)})
	}
	for i := range 150 {
		registrytest.Must(t, func() error { return regs[i%3].Notify(ctx, registry.HookPower, fmt.Sprintf("m%d", i%10), i) })
	}
	got := rc.wait(30*time.Second, func(g []received) bool { return len(g) >= 150 })
	time.Sleep(200 * time.Millisecond) // a repeat would arrive now
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 150 {
		t.Errorf("%d deliveries received for 150 events", len(rc.got))
	}
	last := map[string]int{}
	for _, g := range got {
		var n int
		fmt.Sscan(string(g.Change), &n)
		if prev, ok := last[g.System]; ok && n < prev {
			t.Errorf("system %s: event %d after %d", g.System, n, prev)
		}
		last[g.System] = n
	}
}
