package registry

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestEventLog(t *testing.T) {
	r, _ := openTest(t)
	st := r.store.(*SQLStore)
	log := NewEventLog(st, 50)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- log.Run(ctx) }()
	t0 := time.Now()
	for i := range 120 {
		log.Record(Event{At: t0.Add(time.Duration(i) * time.Second), System: "web001", Kind: "tftp", Detail: fmt.Sprint(i)})
	}
	log.Record(Event{At: t0.Add(200 * time.Second), System: "web001", Kind: "dhcp"})
	log.Record(Event{At: t0.Add(201 * time.Second), System: "web001", Kind: "dhcp"})
	log.Record(Event{At: t0.Add(205 * time.Second), System: "web001", Kind: "script"})
	log.Record(Event{At: t0.Add(300 * time.Second), System: "web001", Kind: "dhcp", Detail: "the booted OS renews"})
	log.Record(Event{At: t0.Add(206 * time.Second), System: "web002", Kind: "dhcp"})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	evs, err := log.Events(context.Background(), "web001", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 50 || evs[0].Detail != "74" || evs[48].Kind != "script" {
		t.Fatalf("kept %d events, first %+v", len(evs), evs[0])
	}
	last := LastBoot(evs)
	if len(last) != 4 || last[0].Kind != "dhcp" || last[2].Kind != "script" || last[3].Detail != "the booted OS renews" {
		t.Fatalf("last boot: %+v", last)
	}
	if log.Dropped() != 0 {
		t.Fatalf("dropped %d", log.Dropped())
	}
}

// TestAppendEventsKeepsTheNewest writes batches straight to the store:
// of each system the newest keep events survive, in order, whether they
// came in one batch or over several, and another system's are untouched.
func TestAppendEventsKeepsTheNewest(t *testing.T) {
	r, _ := openTest(t)
	st := r.store.(*SQLStore)
	ctx := context.Background()
	const keep = 5
	var want []string
	n := 0
	for batch, sizes := range [][2]int{{3, 1}, {12, 2}, {1, 0}, {0, 4}} {
		var evs []Event
		for i := 0; i < max(sizes[0], sizes[1]); i++ {
			if i < sizes[0] {
				n++
				evs = append(evs, Event{System: "a", SystemID: "id-a", Kind: "tftp", Detail: fmt.Sprint(n)})
				want = append(want, fmt.Sprint(n))
			}
			if i < sizes[1] {
				evs = append(evs, Event{System: "b", Kind: "dhcp", Detail: fmt.Sprintf("b%d.%d", batch, i)})
			}
		}
		if err := st.AppendEvents(ctx, evs, keep); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Events(ctx, "id-a", 100)
	if err != nil {
		t.Fatal(err)
	}
	want = want[len(want)-keep:]
	if len(got) != keep {
		t.Fatalf("system a kept %d events, want %d", len(got), keep)
	}
	for i := range got {
		if got[i].Detail != want[i] {
			t.Fatalf("system a kept %v..., want %v", got[i].Detail, want)
		}
	}
	b, err := st.Events(ctx, "b", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != keep || b[0].Detail != "b1.1" || b[keep-1].Detail != "b3.3" {
		t.Fatalf("system b kept %+v", b)
	}
}

// TestEventsSeeWhatWasRecorded: a batch lingers for more events, but a
// reader sees every event recorded before it asked, at once (the CLI's
// `events` right after a build reports done).
func TestEventsSeeWhatWasRecorded(t *testing.T) {
	r, _ := openTest(t)
	log := NewEventLog(r.store.(*SQLStore), 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go log.Run(ctx)
	for i := range 20 {
		log.Record(Event{System: "web001", Kind: "script", Detail: fmt.Sprint(i)})
		evs, err := log.Events(context.Background(), "web001", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != i+1 || evs[i].Detail != fmt.Sprint(i) {
			t.Fatalf("after recording event %d the log shows %d: %+v", i, len(evs), evs)
		}
	}
}
