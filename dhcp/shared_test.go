package dhcp

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// fakeShared is the unit seam of a shared lease database: one lease per
// address. The real one (registry.SQLStore.ClaimLease on PostgreSQL) is
// tested in registry and, with two appliances, in cmd/provision.
type fakeShared struct {
	mu    sync.Mutex
	byIP  map[netip.Addr]Lease
	down  bool
	calls int
}

func (f *fakeShared) Claim(l Lease) (*Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return nil, errors.New("connection refused")
	}
	if cur, ok := f.byIP[l.IP]; ok && string(cur.MAC) != string(l.MAC) && cur.State == LeaseBound && cur.Expires.After(time.Now()) {
		return &cur, nil
	}
	for a, cur := range f.byIP { // the MAC's previous address is freed
		if string(cur.MAC) == string(l.MAC) {
			delete(f.byIP, a)
		}
	}
	f.byIP[l.IP] = l
	return nil, nil
}

func (f *fakeShared) End(l Lease) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return errors.New("connection refused")
	}
	if cur, ok := f.byIP[l.IP]; ok && string(cur.MAC) == string(l.MAC) {
		cur.State, cur.Expires = l.State, l.Expires
		f.byIP[l.IP] = cur
	}
	return nil
}

// Two appliances' pools on one database: the second learns from a refused
// claim that an address is taken and offers another; a database that does
// not answer gets no acknowledgement, and nothing changes in memory.
func TestSharedLeasesOneMACPerAddress(t *testing.T) {
	db := &fakeShared{byIP: map[netip.Addr]Lease{}}
	a, pa := newTestLeases()
	b, pb := newTestLeases()
	a.Share(db)
	b.Share(db)
	now := time.Now()
	m1, _ := net.ParseMAC("52:54:00:00:00:01")
	m2, _ := net.ParseMAC("52:54:00:00:00:02")

	x, err := a.Offer(m1, smallPool, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Ack(m1, x, smallPool, now, now.Add(time.Hour)); err != nil {
		t.Fatalf("a: ack %s to %s: %v", x, m1, err)
	}
	y, err := b.Offer(m2, smallPool, now) // b has never heard of m1's lease
	if err != nil {
		t.Fatal(err)
	}
	if y != x {
		t.Fatalf("b offered %s, want %s (the first free address in its own memory)", y, x)
	}
	err = b.Ack(m2, y, smallPool, now, now.Add(time.Hour))
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), m1.String()) {
		t.Fatalf("b: ack of %s (leased to %s through a) = %v, want ErrConflict naming %s", y, m1, err, m1)
	}
	z, err := b.Offer(m2, smallPool, now)
	if err != nil || z == x {
		t.Fatalf("b: offer after the refusal = %s, %v; want an address other than %s", z, err, x)
	}
	if err := b.Ack(m2, z, smallPool, now, now.Add(time.Hour)); err != nil {
		t.Fatalf("b: ack %s: %v", z, err)
	}
	if got := db.byIP[z]; string(got.MAC) != string(m2) {
		t.Fatalf("database holds %s for %v, want %s", z, got.MAC, m2)
	}

	db.down = true
	calls := db.calls
	m3, _ := net.ParseMAC("52:54:00:00:00:03")
	w, _ := a.Offer(m3, smallPool, now)
	if err := a.Ack(m3, w, smallPool, now, now.Add(time.Hour)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ack with the database down = %v, want ErrUnavailable", err)
	}
	if db.calls != calls+1 {
		t.Fatalf("the database was asked %d times, want once", db.calls-calls)
	}
	for _, l := range a.Leases() {
		if l.IP == w && l.State == LeaseBound {
			t.Fatalf("%s bound in memory though the database never agreed", w)
		}
	}
	a.Release(m1, x) // not written: the database keeps it bound, and so does memory
	if l := a.Leases()[0]; l.IP != x || l.State != LeaseBound {
		t.Fatalf("after a release the database did not take: %+v, want %s still bound", l, x)
	}
	db.down = false
	a.Release(m1, x)
	if got := db.byIP[x]; got.State != LeaseReleased {
		t.Fatalf("database after the release: %+v, want released", got)
	}
	if len(pa.got)+len(pb.got) != 0 {
		t.Fatalf("persist called on a shared pool: %v %v", pa.got, pb.got)
	}
}

// Reply does not NAK when the lease database is unreachable: the client
// keeps asking rather than dropping its address. A held address is NAKed.
func TestReplyOnSharedLeases(t *testing.T) {
	env, leases := newEnv()
	db := &fakeShared{byIP: map[netip.Addr]Lease{}, down: true}
	leases.Share(db)
	offer, err := Reply(discoverPkt(t, macNew), env)
	if err != nil || offer == nil {
		t.Fatalf("offer: %v", err)
	}
	want := offer.YourIPAddr.String()
	req := packet(t, dhcpv4.MessageTypeRequest, macNew, requested(want), serverID(testConfig.ServerIP.String()))
	resp, err := Reply(req, env)
	if resp != nil || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("request with the database down: reply %v, err %v; want none and ErrUnavailable", resp, err)
	}
	db.down = false
	db.byIP[ip(want)] = Lease{MAC: macOther, IP: ip(want), State: LeaseBound, Expires: time.Now().Add(time.Hour)}
	resp, err = Reply(req, env)
	// The NAK's reason names the holder for the log, never on the wire.
	if !errors.Is(err, ErrNAK) || resp == nil || resp.MessageType() != dhcpv4.MessageTypeNak ||
		!strings.Contains(err.Error(), macOther.String()) || strings.Contains(resp.Message(), macOther.String()) {
		t.Fatalf("request of an address held through another appliance: %v, %v; want a NAK, the error naming %s", resp, err, macOther)
	}
	offer, err = Reply(discoverPkt(t, macNew), env) // the NAK taught the pool that the address is taken
	if err != nil || offer.YourIPAddr.String() == want {
		t.Fatalf("offer after the NAK: %v, %v; want an address other than %s", offer, err, want)
	}
	req = packet(t, dhcpv4.MessageTypeRequest, macNew, requested(offer.YourIPAddr.String()), serverID(testConfig.ServerIP.String()))
	if resp, err = Reply(req, env); err != nil || resp.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("request of the new offer: %v, %v; want an ACK", resp, err)
	}
}

// A REQUEST that picks another appliance's offer frees only this
// appliance's own offer: a binding it learned from a refused claim is the
// other appliance's, and ending it would let the address go out twice.
func TestSharedRequestForTheOtherAppliance(t *testing.T) {
	db := &fakeShared{byIP: map[netip.Addr]Lease{}}
	envA, leasesA := newEnv()
	envB, leasesB := newEnv()
	envA.Now, envB.Now = time.Now(), time.Now() // the fake database's clock
	envB.Config.ServerIP = ip("10.0.0.2")
	leasesA.Share(db)
	leasesB.Share(db)
	sidA, sidB := serverID(envA.Config.ServerIP.String()), serverID(envB.Config.ServerIP.String())
	reply := func(env Env, p *dhcpv4.DHCPv4) *dhcpv4.DHCPv4 {
		t.Helper()
		resp, err := Reply(p, env)
		if err != nil && !errors.Is(err, ErrNAK) {
			t.Fatal(err)
		}
		return resp
	}

	offer := reply(envB, discoverPkt(t, macNew))
	x := offer.YourIPAddr.String()
	if resp := reply(envB, packet(t, dhcpv4.MessageTypeRequest, macNew, requested(x), sidB)); resp.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("B: request of %s: %v, want an ACK", x, resp.MessageType())
	}
	// A, which has not heard of that lease, offers the same address to
	// another client, and learns from the refused claim who holds it.
	if offer := reply(envA, discoverPkt(t, macOther)); offer.YourIPAddr.String() != x {
		t.Fatalf("A offered %s, want %s (the first free address in its memory)", offer.YourIPAddr, x)
	}
	if resp := reply(envA, packet(t, dhcpv4.MessageTypeRequest, macOther, requested(x), sidA)); resp.MessageType() != dhcpv4.MessageTypeNak {
		t.Fatalf("A: request of %s held through B: %v, want a NAK", x, resp.MessageType())
	}
	// The first client's REQUEST to B, sent again, reaches A too.
	if resp := reply(envA, packet(t, dhcpv4.MessageTypeRequest, macNew, requested(x), sidB)); resp != nil {
		t.Fatalf("A answered a REQUEST for B: %v", resp.MessageType())
	}
	if got := db.byIP[ip(x)]; string(got.MAC) != string(macNew) || got.State != LeaseBound {
		t.Fatalf("database after A saw the REQUEST for B: %s is %v state %v, want bound to %s", x, got.MAC, got.State, macNew)
	}
	if offer := reply(envA, discoverPkt(t, macOther)); offer.YourIPAddr.String() == x {
		t.Fatalf("A offered %s again, which %s holds through B", x, macNew)
	}
}
