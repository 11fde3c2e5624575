package dhcp

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Real-client tests: ISC dhclient in a network namespace against the
// Server bound to the root side of a veth pair. They need root, ip and
// dhclient (Debian: iproute2, isc-dhcp-client).

func randomMAC(t *testing.T) net.HardwareAddr {
	mac, err := net.ParseMAC("02:fa:" + randomHex(t, 1) + ":" + randomHex(t, 1) + ":" + randomHex(t, 1) + ":" + randomHex(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

func TestDHClientGetsItsReservation(t *testing.T) {
	mac := randomMAC(t)
	v := newVeth(t, mac)
	s := v.subnet(false)
	hosts := newFakeHosts([]Subnet{s}, Host{Name: "node1", MAC: mac, IP: v.addr(20), Subnet: s, Netboot: true})
	events := newRecorder()
	v.serve(t, s, hosts, events)

	got := v.dhclient(t, 10)
	if diff := cmp.Diff([]string{v.addr(20).String()}, got); diff != "" {
		t.Fatalf("lease file addresses (-want +got):\n%s", diff)
	}
	boots, _ := events.snapshot()
	if len(boots) == 0 || boots[0].Host != "node1" || boots[0].IP != v.addr(20) {
		t.Errorf("boot events %+v, want node1 at %s", boots, v.addr(20))
	}
}

func TestDHClientUnknownMACGetsNothing(t *testing.T) {
	v := newVeth(t, randomMAC(t))
	s := v.subnet(false)
	srv := v.serve(t, s, newFakeHosts([]Subnet{s}), nil)

	if got := v.dhclient(t, 3); got != nil {
		t.Fatalf("unknown MAC got a lease: %v", got)
	}
	if st := srv.Stats(); st.Ignored == 0 || st.Replied != 0 {
		t.Errorf("stats %+v: want DISCOVERs received and ignored", st)
	}
}

func TestDHClientUnknownMACGetsPoolLease(t *testing.T) {
	mac := randomMAC(t)
	v := newVeth(t, mac)
	s := v.subnet(true)
	events := newRecorder()
	v.serve(t, s, newFakeHosts([]Subnet{s}), events)

	got := v.dhclient(t, 10)
	if len(got) != 1 || !s.Prefix.Contains(ip(got[0])) || ip(got[0]).Less(s.PoolStart) || s.PoolEnd.Less(ip(got[0])) {
		t.Fatalf("lease file addresses %v, want one in %s-%s", got, s.PoolStart, s.PoolEnd)
	}
	waitFor(t, events, func(_ []BootEvent, d []Discovery) bool { return len(d) > 0 })
	_, found := events.snapshot()
	if found[0].MAC.String() != mac.String() || found[0].IP.String() != got[0] || found[0].Subnet != "veth" {
		t.Errorf("discovery %+v, want %s at %s", found[0], mac, got[0])
	}
}
