package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/registry"
)

// 10,000 deliveries queued to a receiver that never answers (each try
// hangs until the 10 s timeout) leave DNS answer times and registry
// writes as they were: nothing on those paths waits for a delivery.
func TestHooksDoNotSlowDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 systems")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, devConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	hang := make(chan struct{})
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer dead.Close()
	defer close(hang)
	reg := a.Registry()
	if _, err := reg.Import(ctx, fleetYAML(10000, ""), false); err != nil {
		t.Fatal(err)
	}
	dnsAddr := a.Addrs().DNS
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		m := new(dns.Msg)
		m.SetQuestion("n09999.internal.", dns.TypeA)
		if in, err := dns.Exchange(m, dnsAddr); err == nil && len(in.Answer) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the zone lacks the imported systems after 30 s")
		}
	}
	runtime.GC()
	base := dnsTimes(t, dnsAddr, 2000)
	baseWrite := writeTimes(t, reg, "a", 100)
	// Then a hook, and one change of every system (one import): 10,000
	// events to fan out and deliver.
	if err := reg.AddHook(ctx, registry.Hook{Name: "dead", URL: dead.URL, Events: []string{registry.HookAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Import(ctx, fleetYAML(10000, "quiet"), false); err != nil {
		t.Fatal(err)
	}
	o, _ := reg.Outbox()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n, _ := o.DeliveryCounts(ctx)
		if n[registry.DeliveryPending] >= 10000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries pending after 60 s: %v", n)
		}
	}
	runtime.GC() // the imports' garbage, which is not the queue's
	loaded := dnsTimes(t, dnsAddr, 2000)
	loadedWrite := writeTimes(t, reg, "b", 100)
	t.Logf("DNS answer p50/p99: %v/%v without a queue, %v/%v with 10,000 deliveries pending to a receiver that hangs",
		base[0], base[1], loaded[0], loaded[1])
	t.Logf("registry write p50/p99: %v/%v, then %v/%v", baseWrite[0], baseWrite[1], loadedWrite[0], loadedWrite[1])
	// The medians are the measure (the p99 of a busy 2-core CI machine is
	// its scheduler's); a queue that slowed either path would move them.
	if loaded[0] > 3*base[0]+time.Millisecond || loaded[1] > 10*base[1]+20*time.Millisecond {
		t.Errorf("DNS p50/p99 went from %v/%v to %v/%v with the queue", base[0], base[1], loaded[0], loaded[1])
	}
	if loadedWrite[0] > 3*baseWrite[0]+10*time.Millisecond {
		t.Errorf("registry write p50 went from %v to %v with the queue", baseWrite[0], loadedWrite[0])
	}
}

// fleetYAML is an import of a subnet, an image, a profile and n systems
// with kernel arguments args.
func fleetYAML(n int, args string) []byte {
	var b strings.Builder
	b.WriteString("subnets:\n  - {name: big, cidr: 10.64.0.0/16}\nimages:\n  - name: img\n    kind: install\n    files:\n")
	fmt.Fprintf(&b, "      kernel: {sha256: %s}\n      initrd: {sha256: %s}\n", strings.Repeat("a", 64), strings.Repeat("b", 64))
	b.WriteString("profiles:\n  - {name: p, image: img}\nsystems:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: n%05d, macs: ['02:01:00:00:%02x:%02x'], ip: 10.64.%d.%d, profile: p, kernel_args: '%s'}\n", i, i/256, i%256, 1+i/250, 1+i%250, args)
	}
	return []byte(b.String())
}

// dnsTimes asks n A queries of fleet systems and returns the p50 and p99
// answer times.
func dnsTimes(t *testing.T, addr string, n int) [2]time.Duration {
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	co := &dns.Conn{Conn: conn}
	var d []time.Duration
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("n%05d.internal.", i*7%10000), dns.TypeA)
		in, rtt, err := c.ExchangeWithConn(m, co)
		if err != nil || len(in.Answer) != 1 {
			t.Fatalf("DNS %s: %v %v", m.Question[0].Name, in, err)
		}
		d = append(d, rtt)
	}
	return percentiles(d)
}

// writeTimes adds n systems and returns the p50 and p99 commit times.
func writeTimes(t *testing.T, reg *registry.Registry, prefix string, n int) [2]time.Duration {
	var d []time.Duration
	for i := range n {
		start := time.Now()
		_, err := reg.AddSystem(context.Background(), registry.System{Name: fmt.Sprintf("w%s%02d", prefix, i), Profile: "p",
			MACs: []string{fmt.Sprintf("02:02:%02x:00:00:%02x", prefix[0], i)}, IP: fmt.Sprintf("10.64.%d.%d", 200+int(prefix[0]-'a'), i+1)})
		if err != nil {
			t.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	return percentiles(d)
}

func percentiles(d []time.Duration) [2]time.Duration {
	slices.Sort(d)
	return [2]time.Duration{d[len(d)/2], d[len(d)*99/100]}
}
