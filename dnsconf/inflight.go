package dnsconf

import (
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// inflight counts what is held at once, in all and per client address:
// the forwarded queries waiting for an upstream, the TCP connections
// open. Each holder is a goroutine (and over TCP a descriptor), so the
// bounds are what keeps a flood from spoofed addresses, or from one
// client, from taking the process's memory and descriptors.
type inflight struct {
	max, perClient int

	mu     sync.Mutex
	total  int
	client map[netip.Addr]int // at most max entries: each holds one
}

func newInflight(max, perClient int) *inflight {
	return &inflight{max: max, perClient: perClient, client: map[netip.Addr]int{}}
}

// take takes a slot for client and returns the function that gives it
// back, or, with none free, nil and the rcode to answer: SERVFAIL when
// all are taken (the server is busy), REFUSED when the client holds its
// share.
func (f *inflight) take(client netip.Addr) (func(), int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.total >= f.max:
		return nil, dns.RcodeServerFailure
	case f.client[client] >= f.perClient:
		return nil, dns.RcodeRefused
	}
	f.total++
	f.client[client]++
	var once sync.Once
	return func() { once.Do(func() { f.give(client) }) }, dns.RcodeSuccess
}

func (f *inflight) give(client netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total--
	if f.client[client]--; f.client[client] <= 0 {
		delete(f.client, client)
	}
}

// held returns how many slots are taken.
func (f *inflight) held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}
