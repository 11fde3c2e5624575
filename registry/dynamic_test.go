package registry

import (
	"context"
	"testing"
	"time"
)

func TestDynamicLog(t *testing.T) {
	r, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	l := NewDynamicLog(r.store.(*SQLStore))
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	l.SaveLease(Lease{MAC: "02:00:00:00:00:01", IP: "10.0.0.201", Subnet: "lan", Expires: exp, State: "bound"})
	l.SaveLease(Lease{MAC: "02:00:00:00:00:01", IP: "10.0.0.202", Subnet: "lan", Expires: exp, State: "bound"})
	l.Saw(Discovered{MAC: "02:00:00:00:00:01", IP: "10.0.0.202", Subnet: "lan", FirstSeen: exp, LastSeen: exp})
	l.Saw(Discovered{MAC: "aa:bb:cc:dd:ee:01", IP: "10.0.0.203", Subnet: "lan", FirstSeen: exp, LastSeen: exp})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	leases, err := l.Leases(context.Background())
	if err != nil || len(leases) != 1 || leases[0].IP != "10.0.0.202" || !leases[0].Expires.Equal(exp) {
		t.Fatalf("leases: %+v %v", leases, err)
	}
	if _, err := r.AddSystem(context.Background(), sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	d, err := l.Discovered(context.Background(), r.Snapshot())
	if err != nil || len(d) != 1 || d[0].MAC != "02:00:00:00:00:01" {
		t.Fatalf("discovered (a promoted MAC must drop out): %+v %v", d, err)
	}
}
