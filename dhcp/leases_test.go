package dhcp

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var smallPool = Subnet{
	Name: "small", Prefix: netip.MustParsePrefix("192.0.2.0/24"), Gateway: ip("192.0.2.3"),
	DNS: []netip.Addr{ip("192.0.2.4")}, PoolStart: ip("192.0.2.0"), PoolEnd: ip("192.0.2.7"),
	LeaseTime: time.Hour,
}

// persisted collects what MemoryLeases hands to persist.
type persisted struct {
	mu  sync.Mutex
	got []string
}

func (p *persisted) add(l Lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	state := [...]string{"offered", "bound", "released", "declined"}[l.State]
	p.got = append(p.got, state+" "+l.IP.String()+" "+l.MAC.String()+" "+l.Subnet)
}

func newTestLeases(reserved ...string) (*MemoryLeases, *persisted) {
	r := map[netip.Addr]bool{}
	for _, a := range reserved {
		r[ip(a)] = true
	}
	p := &persisted{}
	return NewMemoryLeases(func(a netip.Addr) bool { return r[a] }, p.add), p
}

func TestMemoryLeasesSkipsWhatIsNotTheirs(t *testing.T) {
	m, _ := newTestLeases("192.0.2.2", "192.0.2.6")
	var got []string
	for i := range 3 {
		a, err := m.Offer(mustMAC("02:00:00:00:01:0"+string(rune('0'+i))), smallPool, t0)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.String())
	}
	// .0 network, .2 and .6 reserved, .3 gateway, .4 DNS
	if diff := cmp.Diff([]string{"192.0.2.1", "192.0.2.5", "192.0.2.7"}, got); diff != "" {
		t.Errorf("offers (-want +got):\n%s", diff)
	}
}

func TestMemoryLeasesExhaustion(t *testing.T) {
	m, _ := newTestLeases("192.0.2.2", "192.0.2.6")
	for i := range 3 {
		if _, err := m.Offer(mustMAC("02:00:00:00:01:0"+string(rune('0'+i))), smallPool, t0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Offer(macNew, smallPool, t0)
	if !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("err = %v, want ErrPoolExhausted", err)
	}
	// Offers lapse after OfferHold: the pool has room again.
	if a, err := m.Offer(macNew, smallPool, t0.Add(OfferHold)); err != nil || !a.IsValid() {
		t.Fatalf("after the hold: %v, %v", a, err)
	}
}

func TestMemoryLeasesLifecycle(t *testing.T) {
	m, p := newTestLeases()
	until := t0.Add(time.Hour)
	a, err := m.Offer(macNew, smallPool, t0)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m.Offer(macNew, smallPool, t0.Add(time.Second)); again != a {
		t.Errorf("second offer %s, want the same %s", again, a)
	}
	if err := m.Ack(macOther, a, smallPool, t0, until); !errors.Is(err, ErrConflict) {
		t.Errorf("Ack by another MAC: %v, want ErrConflict", err)
	}
	if err := m.Ack(macNew, a, smallPool, t0, until); err != nil {
		t.Fatal(err)
	}
	m.Release(macOther, a) // not its lease: ignored
	m.Release(macNew, a)
	m.Release(macNew, a) // twice: ignored
	if err := m.Ack(macNew, ip("192.0.2.5"), smallPool, t0, until); err != nil {
		t.Fatal(err)
	}
	if err := m.Ack(macNew, ip("192.0.2.7"), smallPool, t0, until); err != nil { // moves
		t.Fatal(err)
	}
	if again, _ := m.Offer(macNew, smallPool, t0.Add(2*time.Hour)); again != ip("192.0.2.7") {
		t.Errorf("after expiry the client gets %s, want its old 192.0.2.7", again)
	}
	m.Decline(macOther, ip("192.0.2.7"), t0) // not its lease: ignored
	m.Decline(macNew, ip("192.0.2.7"), t0)
	if err := m.Ack(macNew, ip("192.0.2.7"), smallPool, t0, until); !errors.Is(err, ErrConflict) {
		t.Errorf("Ack of a declined address: %v, want ErrConflict", err)
	}
	if err := m.Ack(macOther, ip("192.0.2.7"), smallPool, t0.Add(DeclineHold), until); err != nil {
		t.Errorf("Ack after the quarantine: %v", err)
	}
	want := []string{
		"bound 192.0.2.1 02:00:00:00:00:99 small",
		"released 192.0.2.1 02:00:00:00:00:99 small",
		"bound 192.0.2.5 02:00:00:00:00:99 small",
		"released 192.0.2.5 02:00:00:00:00:99 small",
		"bound 192.0.2.7 02:00:00:00:00:99 small",
		"declined 192.0.2.7 02:00:00:00:00:99 small",
		"bound 192.0.2.7 02:00:00:00:00:98 small",
	}
	if diff := cmp.Diff(want, p.got); diff != "" {
		t.Errorf("persisted (-want +got):\n%s", diff)
	}
}

func TestMemoryLeasesRefusesReservedAndForeign(t *testing.T) {
	m, _ := newTestLeases("192.0.2.5")
	for _, a := range []string{"192.0.2.5", "192.0.2.3", "192.0.2.0", "192.0.2.9", "198.51.100.1"} {
		if err := m.Ack(macNew, ip(a), smallPool, t0, t0.Add(time.Hour)); !errors.Is(err, ErrConflict) {
			t.Errorf("Ack(%s) = %v, want ErrConflict", a, err)
		}
	}
	if _, err := m.Offer(macNew, labNet.withoutPool(), t0); !errors.Is(err, ErrNoPool) {
		t.Errorf("Offer without pool: %v, want ErrNoPool", err)
	}
}

func TestMemoryLeasesRestore(t *testing.T) {
	m, _ := newTestLeases()
	m.Restore(
		Lease{MAC: macOther, IP: ip("192.0.2.1"), Subnet: "small", Expires: t0.Add(time.Hour), State: LeaseBound},
		Lease{MAC: macOther, IP: ip("192.0.2.2"), Subnet: "small", State: LeaseReleased},
	)
	if a, _ := m.Offer(macNew, smallPool, t0); a != ip("192.0.2.2") {
		t.Errorf("offer %s, want 192.0.2.2 (192.0.2.1 is restored as bound)", a)
	}
	if a, _ := m.Offer(macOther, smallPool, t0); a != ip("192.0.2.1") {
		t.Errorf("restored client offered %s, want its 192.0.2.1", a)
	}
	if n := len(m.Leases()); n != 2 {
		t.Errorf("%d leases, want 2", n)
	}
}

func (s Subnet) withoutPool() Subnet {
	s.PoolStart, s.PoolEnd = netip.Addr{}, netip.Addr{}
	return s
}
