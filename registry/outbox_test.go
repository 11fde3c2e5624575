package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSONString(t *testing.T, v any) string { return string(mustJSON(t, v)) }

// outboxOf lists the outbox's events as "event system" lines.
func outboxOf(t *testing.T, r *Registry) []string {
	t.Helper()
	st := r.store.(*SQLStore)
	tx, err := st.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	evs, err := outboxAfter(context.Background(), tx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Event+" "+e.System)
	}
	return out
}

// Nothing is written to the outbox while there is no hook; with one,
// each change writes its events in its own commit: a system's add, a
// lifecycle transition, an edit, a remove, an accept, and Notify's.
func TestOutboxEvents(t *testing.T) {
	r, _, _ := openLifecycle(t)
	ctx := context.Background()
	must(t, func() error { _, err := r.AddSystem(ctx, sys("before", "aa:bb:cc:dd:ee:09", "10.0.0.9")); return err })
	must(t, func() error { return r.Notify(ctx, HookBooted, "before", map[string]string{"mac": "x"}) })
	if got := outboxOf(t, r); len(got) != 0 {
		t.Fatalf("without a hook the outbox holds %v", got)
	}
	must(t, func() error {
		return r.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAll}})
	})
	s, err := r.AddSystem(ctx, instSys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, func() error { _, err := r.BuildStarted(ctx, string(s.BuildToken), "fetched"); return err })
	must(t, func() error { _, err := r.BuildDone(ctx, string(s.BuildToken), "done"); return err })
	must(t, func() error { return r.Notify(ctx, HookPower, "web001", map[string]string{"power": "off"}) })
	must(t, func() error { return r.RemoveSystem(ctx, "before") })
	want := []string{
		"system.added web001",
		"system.changed web001", "build.started web001",
		"system.changed web001", "build.installed web001",
		"power web001",
		"system.removed before",
	}
	if got := outboxOf(t, r); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOutboxAccepted(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	must(t, func() error {
		return r.AddHook(ctx, Hook{Name: "ci", URL: "http://127.0.0.1:9/", Events: []string{HookAccepted}})
	})
	report(t, r, machineInv(1, "S1", 7))
	if _, err := r.AcceptMachine(ctx, "S1", Accept{Name: "a12-7", Profile: "web", IP: "auto"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(outboxOf(t, r), ","); got != "system.added a12-7,accepted a12-7" {
		t.Errorf("outbox: %s", got)
	}
}

// Enqueue fans events out to the hooks that take them; Claim gives the
// first pending delivery of each system only, so a system's events go
// in order; a failed try waits for its next time; a dead one is given
// up and listed; Prune removes what every hook is done with.
func TestDeliveriesOrderRetryDeadPrune(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	must(t, func() error {
		return r.AddHook(ctx, Hook{Name: "web", URL: "http://127.0.0.1:9/", Events: []string{HookSystemAdded, HookSystemChanged}, SystemFilter: "web*"})
	})
	must(t, func() error {
		return r.AddHook(ctx, Hook{Name: "none", URL: "http://127.0.0.1:9/", Events: []string{HookBuildFailed}})
	})
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("web%03d", i)
		must(t, func() error {
			_, err := r.AddSystem(ctx, sys(name, fmt.Sprintf("aa:bb:cc:dd:ee:%02x", i), fmt.Sprintf("10.0.0.%d", 10+i)))
			return err
		})
	}
	must(t, func() error { _, err := r.AddSystem(ctx, sys("db001", "aa:bb:cc:dd:ee:30", "10.0.0.30")); return err })
	s1, _ := r.Snapshot().SystemByName("web001")
	e := s1.Clone()
	e.KernelArgs = "quiet"
	must(t, func() error { _, err := r.EditSystem(ctx, "web001", e); return err })
	o, err := r.Outbox()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	if n, err := o.Enqueue(ctx, now); err != nil || n != 3 {
		t.Fatalf("Enqueue: %d, %v; want 3 (web001 twice, web002)", n, err)
	}
	if n, _ := o.Enqueue(ctx, now); n != 0 {
		t.Fatalf("a second Enqueue made %d more", n)
	}
	got, err := o.Claim(ctx, "a", now, time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].System != "web001" || got[0].Event != HookSystemAdded || got[1].System != "web002" {
		t.Fatalf("claimed %+v; want web001's add and web002's add", got)
	}
	if more, _ := o.Claim(ctx, "b", now, time.Minute, 10); len(more) != 0 {
		t.Fatalf("leased deliveries claimed again: %+v", more)
	}
	// web001's add fails: its edit still waits behind it.
	must(t, func() error { return o.Failed(ctx, got[0].ID, 1, now.Add(time.Second), "connection refused", false) })
	must(t, func() error { return o.Delivered(ctx, got[1].ID, 1, now) })
	if more, _ := o.Claim(ctx, "b", now, time.Minute, 10); len(more) != 0 {
		t.Fatalf("claimed before the retry is due: %+v", more)
	}
	retry, _ := o.Claim(ctx, "b", now.Add(time.Second), time.Minute, 10)
	if len(retry) != 1 || retry[0].ID != got[0].ID || retry[0].Attempts != 1 || retry[0].LastError != "connection refused" {
		t.Fatalf("retry: %+v", retry)
	}
	must(t, func() error { return o.Failed(ctx, retry[0].ID, 2, now, "gave up", true) })
	next, _ := o.Claim(ctx, "b", now.Add(2*time.Second), time.Minute, 10)
	if len(next) != 1 || next[0].Event != HookSystemChanged || !strings.Contains(string(next[0].Payload), `"quiet"`) {
		t.Fatalf("after the dead one, the edit: %+v", next)
	}
	must(t, func() error { return o.Delivered(ctx, next[0].ID, 1, now) })
	counts, _ := o.DeliveryCounts(ctx)
	if counts[DeliveryDelivered] != 2 || counts[DeliveryDead] != 1 || counts[DeliveryPending] != 0 {
		t.Errorf("counts: %v", counts)
	}
	list, _ := o.Deliveries(ctx, "web", 10)
	if len(list) != 3 || list[2].State != DeliveryDead || list[2].LastError != "gave up" {
		t.Errorf("deliveries: %+v", list)
	}
	// A day on: delivered rows and the events every hook passed go; the
	// dead delivery and its event stay.
	if _, err := o.Prune(ctx, now.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if list, _ := o.Deliveries(ctx, "web", 10); len(list) != 1 || list[0].State != DeliveryDead {
		t.Errorf("after prune: %+v", list)
	}
	if got := outboxOf(t, r); strings.Join(got, ",") != "system.added web001" {
		t.Errorf("outbox after prune: %v", got)
	}
	must(t, func() error { return r.RemoveHook(ctx, "web") })
	if list, _ := o.Deliveries(ctx, "web", 10); len(list) != 0 {
		t.Errorf("a removed hook's deliveries: %+v", list)
	}
}
