package dhcp

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeHosts is a Hosts built from lists, as a registry snapshot would be.
type fakeHosts struct {
	hosts   map[string]Host
	byIP    map[netip.Addr]bool
	subnets []Subnet
}

func newFakeHosts(subnets []Subnet, hosts ...Host) *fakeHosts {
	f := &fakeHosts{hosts: map[string]Host{}, byIP: map[netip.Addr]bool{}, subnets: subnets}
	for _, h := range hosts {
		f.hosts[h.MAC.String()] = h
		f.byIP[h.IP] = true
	}
	return f
}

func (f *fakeHosts) HostByMAC(mac net.HardwareAddr) (Host, bool) {
	h, ok := f.hosts[mac.String()]
	return h, ok
}

func (f *fakeHosts) SubnetFor(ip netip.Addr) (Subnet, bool) {
	for _, s := range f.subnets {
		if s.Prefix.Contains(ip) {
			return s, true
		}
	}
	return Subnet{}, false
}

func (f *fakeHosts) reserved(ip netip.Addr) bool { return f.byIP[ip] }

// recorder is an Events that keeps what it gets.
type recorder struct {
	mu         sync.Mutex
	boots      []BootEvent
	discovered []Discovery
	sightings  []Sighting
	notify     chan struct{}
}

func (r *recorder) Sighted(s Sighting) {
	r.mu.Lock()
	r.sightings = append(r.sightings, s)
	r.mu.Unlock()
	r.notify <- struct{}{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 64)} }

func (r *recorder) Booted(e BootEvent) {
	r.mu.Lock()
	r.boots = append(r.boots, e)
	r.mu.Unlock()
	r.notify <- struct{}{}
}

func (r *recorder) Discovered(d Discovery) {
	r.mu.Lock()
	r.discovered = append(r.discovered, d)
	r.mu.Unlock()
	r.notify <- struct{}{}
}

func (r *recorder) snapshot() ([]BootEvent, []Discovery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]BootEvent(nil), r.boots...), append([]Discovery(nil), r.discovered...)
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// waitFor waits until the recorder's events satisfy ok.
func waitFor(t *testing.T, r *recorder, ok func([]BootEvent, []Discovery) bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if ok(r.snapshot()) {
			return
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatal("events not delivered")
		}
	}
}
