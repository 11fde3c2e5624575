package registry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/pgtest"
)

// ClaimLease on either backend: another MAC's live lease is refused with
// its holder named, an expired or released one is taken, a MAC that moves
// frees its old address.
func TestClaimLease(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "registry.db"))
	defer st.Close()
	now := time.Now()
	lease := func(mac, ip, holder string, until time.Duration) Lease {
		return Lease{MAC: mac, IP: ip, Subnet: "lan", Expires: now.Add(until), State: "bound", Holder: holder}
	}
	must(t, func() error { return st.ClaimLease(ctx, lease("aa:00:00:00:00:01", "10.0.0.100", "a", time.Hour), now) })
	err := st.ClaimLease(ctx, lease("aa:00:00:00:00:02", "10.0.0.100", "b", time.Hour), now)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Lease.MAC != "aa:00:00:00:00:01" || held.Lease.Holder != "a" {
		t.Fatalf("claim of a held address = %v, want a LeaseHeldError naming aa:00:00:00:00:01 through a", err)
	}
	if want := "lease 10.0.0.100: bound to aa:00:00:00:00:01 through appliance a until "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %q, want it to start %q", err, want)
	}
	// Renewal by the holder, through the other appliance: allowed.
	must(t, func() error {
		return st.ClaimLease(ctx, lease("aa:00:00:00:00:01", "10.0.0.100", "b", 2*time.Hour), now)
	})
	// Later than its expiry, anyone may take it.
	later := now.Add(3 * time.Hour)
	must(t, func() error {
		return st.ClaimLease(ctx, Lease{MAC: "aa:00:00:00:00:02", IP: "10.0.0.100", Subnet: "lan", Expires: later.Add(time.Hour), State: "bound", Holder: "b"}, later)
	})
	// The first MAC moves to another address; then releases it.
	must(t, func() error { return st.ClaimLease(ctx, lease("aa:00:00:00:00:01", "10.0.0.101", "a", time.Hour), now) })
	must(t, func() error {
		return st.EndLease(ctx, Lease{MAC: "aa:00:00:00:00:01", IP: "10.0.0.101", State: "released", Expires: now})
	})
	must(t, func() error { return st.ClaimLease(ctx, lease("aa:00:00:00:00:03", "10.0.0.101", "b", time.Hour), now) })
	got, err := st.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range got {
		rows = append(rows, fmt.Sprintf("%s %s %s %s", l.IP, l.MAC, l.State, l.Holder))
	}
	want := []string{"10.0.0.100 aa:00:00:00:00:02 bound b", "10.0.0.101 aa:00:00:00:00:03 bound b"}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("leases:\n%v\nwant\n%v", rows, want)
	}
	// The asynchronous path (a single appliance) keeps one row per address too.
	must(t, func() error {
		return st.SaveDynamic(ctx, []Lease{lease("aa:00:00:00:00:04", "10.0.0.101", "", time.Hour)}, nil)
	})
	if got, _ := st.Leases(ctx); len(got) != 2 || got[1].MAC != "aa:00:00:00:00:04" {
		t.Fatalf("after SaveDynamic took 10.0.0.101: %+v", got)
	}
}

// Two appliances claim the same free address for different MACs, 40 at
// a time over their own connections: exactly one MAC gets it, each time,
// and the database never holds two leases of one address.
func TestPostgresClaimLeaseRace(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	var stores [2]*SQLStore
	for i := range stores {
		st, err := OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		stores[i] = st
	}
	now := time.Now()
	for round := range 5 {
		ip := fmt.Sprintf("10.0.0.%d", 100+round)
		if round == 4 { // an expired lease to take over: the row-lock path, not the unique index
			must(t, func() error {
				return stores[0].ClaimLease(ctx, Lease{MAC: "ff:00:00:00:00:00", IP: ip, Subnet: "lan", Expires: now.Add(-time.Minute), State: "bound"}, now.Add(-time.Hour))
			})
		}
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := Lease{MAC: fmt.Sprintf("aa:00:00:00:%02x:%02x", round, i), IP: ip, Subnet: "lan", Expires: now.Add(time.Hour),
					State: "bound", Holder: fmt.Sprint("appliance", i%2)}
				errs[i] = stores[i%2].ClaimLease(ctx, l, now)
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			var held *LeaseHeldError
			switch {
			case err == nil:
				won++
			case errors.As(err, &held):
			default:
				t.Errorf("round %d claim %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d claims of %s won, want exactly 1", round, won, ip)
		}
	}
	leases, err := stores[1].Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, l := range leases {
		if m, dup := seen[l.IP]; dup {
			t.Fatalf("%s leased to %s and %s", l.IP, m, l.MAC)
		}
		seen[l.IP] = l.MAC
	}
	if len(seen) != 5 {
		t.Fatalf("%d addresses leased, want 5: %+v", len(seen), leases)
	}
}
