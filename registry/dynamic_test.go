package registry

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/pgtest"
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
	d, _, err := l.Discovered(context.Background(), r.Snapshot(), "", 100)
	if err != nil || len(d) != 1 || d[0].MAC != "02:00:00:00:00:01" {
		t.Fatalf("discovered (a promoted MAC must drop out): %+v %v", d, err)
	}
}

// Any DHCP client may send random MACs: the discovered table keeps the
// most recent sightings up to its cap, and is read a page at a time.
func TestDiscoveredCapAndPages(t *testing.T) {
	r, _ := openTest(t)
	testDiscoveredCapAndPages(t, r)
}

// The same on PostgreSQL, whose placeholders and collation differ.
func TestPostgresDiscoveredCapAndPages(t *testing.T) {
	testDiscoveredCapAndPages(t, openPostgresRegistry(t, pgtest.DB(t)))
}

func testDiscoveredCapAndPages(t *testing.T, r *Registry) {
	st := r.store.(*SQLStore)
	st.SetDiscoveredCap(5)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for batch := range 3 {
		var seen []Discovered
		for i := range 4 {
			n := batch*4 + i
			at := t0.Add(time.Duration(n) * time.Minute)
			seen = append(seen, Discovered{MAC: fmt.Sprintf("02:00:00:00:00:%02x", n), IP: "10.0.0.200", Subnet: "lan", FirstSeen: at, LastSeen: at})
		}
		if err := st.SaveDynamic(ctx, nil, seen); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.Discovered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var macs []string
	for _, d := range all {
		macs = append(macs, d.MAC)
	}
	want := []string{"02:00:00:00:00:0b", "02:00:00:00:00:0a", "02:00:00:00:00:09", "02:00:00:00:00:08", "02:00:00:00:00:07"}
	if diff := cmp.Diff(want, macs); diff != "" {
		t.Fatalf("after 12 sightings with a cap of 5, kept (-want +got):\n%s", diff)
	}
	l := NewDynamicLog(st)
	var paged []string
	after, pages := "", 0
	for {
		page, next, err := l.Discovered(ctx, r.Snapshot(), after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range page {
			paged = append(paged, d.MAC)
		}
		if next == "" {
			break
		}
		after = next
	}
	if diff := cmp.Diff(want, paged); diff != "" || pages != 3 {
		t.Fatalf("pages of 2 (%d pages) (-want +got):\n%s", pages, diff)
	}
	if _, _, err := l.Discovered(ctx, r.Snapshot(), "junk", 2); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cursor that does not parse: %v, want ErrInvalid", err)
	}
}
