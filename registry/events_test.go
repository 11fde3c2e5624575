package registry

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestEventLog(t *testing.T) {
	r, _ := openTest(t)
	st := r.store.(*SQLiteStore)
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
