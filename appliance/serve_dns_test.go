package appliance

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// Recursion is for the registered subnets and 127.0.0.1 and ::1 only;
// the rate limit's trust (all of loopback) is wider.
func TestRecursionClient(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Open(t)
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	snap := reg.Snapshot()
	for ip, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.0.0.12": true, "10.0.0.255": true, "::ffff:10.0.0.12": true, "::ffff:127.0.0.1": true,
		"127.0.0.5": false, "127.0.0.53": false, "10.0.1.12": false, "192.0.2.1": false, "fe80::1": false, "::ffff:127.0.0.5": false,
	} {
		if got := recursionClient(snap, netip.MustParseAddr(ip)); got != want {
			t.Errorf("recursionClient(%s) = %t, want %t", ip, got, want)
		}
	}
	if !trustedDNSClient(snap, netip.MustParseAddr("127.0.0.5")) {
		t.Error("127.0.0.5 is no longer trusted by the rate limit")
	}
}

func TestParseDNSForward(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string // upstreams, or the error
	}{
		{nil, "[]"},
		{[]string{}, "[]"},
		{[]string{"none"}, "[]"},
		{[]string{""}, "[]"},
		{[]string{"192.0.2.1"}, "[192.0.2.1:53]"},
		{[]string{"192.0.2.1:5353", " 2001:db8::1 ", "[2001:db8::2]:54"}, "[192.0.2.1:5353 [2001:db8::1]:53 [2001:db8::2]:54]"},
		{[]string{"none", "192.0.2.1"}, "--dns-forward none: give it alone"},
		{[]string{"resolver.example"}, `--dns-forward "resolver.example": want IP or IP:PORT`},
		{[]string{"192.0.2.1:0"}, `--dns-forward "192.0.2.1:0"`},
		{[]string{"0.0.0.0"}, `--dns-forward "0.0.0.0"`},
		{[]string{"192.0.2.1:99999"}, `--dns-forward "192.0.2.1:99999"`},
	} {
		ups, err := parseDNSForward(tc.in)
		got := fmt.Sprint(ups)
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) || err == nil && got != tc.want {
			t.Errorf("parseDNSForward(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// ownDNS: an upstream on the server's own port is itself at its listen
// address, and when it listens on every address, at loopback and local
// addresses too.
func TestOwnDNS(t *testing.T) {
	local := []netip.Addr{netip.MustParseAddr("10.0.0.2")}
	for _, tc := range []struct {
		listen, up string
		want       bool
	}{
		{":53", "127.0.0.1:53", true},
		{":53", "127.0.0.53:53", true},
		{":53", "[::1]:53", true},
		{":53", "10.0.0.2:53", true},
		{"0.0.0.0:53", "10.0.0.2:53", true},
		{":53", "10.0.0.3:53", false},
		{":53", "127.0.0.1:5353", false},
		{"10.0.0.2:53", "10.0.0.2:53", true},
		{"10.0.0.2:53", "127.0.0.1:53", false}, // another server on loopback
		{"127.0.0.1:8053", "127.0.0.1:8053", true},
		{"127.0.0.1:8053", "127.0.0.1:53", false},
		{"localhost:53", "127.0.0.1:53", true},
		{"127.0.0.1:0", "127.0.0.1:53", false},
	} {
		if got := ownDNS(tc.listen, local)(netip.MustParseAddrPort(tc.up)); got != tc.want {
			t.Errorf("listening on %s, ownDNS(%s) = %t, want %t", tc.listen, tc.up, got, tc.want)
		}
	}
}

// By default the upstreams are resolv.conf's name servers but this
// server itself; --dns-forward overrides them, and naming this server
// there is an error.
func TestDNSForwarders(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "resolv.conf")
	os.WriteFile(conf, []byte("# test\nsearch example\nnameserver 192.0.2.53\nnameserver 127.0.0.1\nnameserver 2001:db8::53\nnameserver resolver.example\noptions ndots:2\n"), 0o644)
	own := ownDNS(":53", nil)

	plan, err := dnsForwarders(nil, conf, own)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(plan.upstreams), "[192.0.2.53:53 [2001:db8::53]:53]"; got != want || plan.from != conf {
		t.Errorf("from resolv.conf: %s from %s, want %s", got, plan.from, want)
	}
	if got, want := strings.Join(plan.skipped, "; "), "127.0.0.1:53: this DNS server itself; resolver.example: not an IP address"; got != want {
		t.Errorf("skipped %q, want %q", got, want)
	}

	plan, err = dnsForwarders(nil, conf, ownDNS("127.0.0.1:8053", nil))
	if err != nil || len(plan.upstreams) != 3 {
		t.Errorf("listening on 127.0.0.1:8053, 127.0.0.1:53 is another server: %v, %v", plan.upstreams, err)
	}

	plan, err = dnsForwarders(nil, filepath.Join(dir, "missing"), own)
	if err != nil || len(plan.upstreams) != 0 || len(plan.skipped) != 1 {
		t.Errorf("without resolv.conf: %+v, %v; want no upstream and the reason", plan, err)
	}

	plan, err = dnsForwarders([]string{"192.0.2.9:5353"}, conf, own)
	if err != nil || fmt.Sprint(plan.upstreams) != "[192.0.2.9:5353]" || plan.from != "--dns-forward" {
		t.Errorf("--dns-forward 192.0.2.9:5353: %+v, %v", plan, err)
	}
	for _, list := range [][]string{{"none"}, {}} {
		if plan, err := dnsForwarders(list, conf, own); err != nil || len(plan.upstreams) != 0 {
			t.Errorf("--dns-forward %q: %+v, %v; want nothing forwarded", list, plan, err)
		}
	}
	_, err = dnsForwarders([]string{"127.0.0.1"}, conf, own)
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--dns-forward 127.0.0.1:53 is this DNS server itself") {
		t.Errorf("--dns-forward to itself: %v", err)
	}
}
