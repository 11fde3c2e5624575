package dhcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// veth is a network namespace joined to the root namespace by a veth pair,
// on a test-only prefix in 10.250.0.0/16: all traffic stays on this machine.
type veth struct {
	ns, host, peer string       // namespace, root-side and namespace-side interfaces
	prefix         netip.Prefix // 10.250.N.0/24 (or wider)
	server         netip.Addr   // the first address, on host
}

// newVeth creates the namespace and the pair; t.Cleanup removes them even
// when the test fails.
func newVeth(t *testing.T, peerMAC net.HardwareAddr) *veth {
	return newVethBits(t, peerMAC, 24)
}

// newVethBits is newVeth on a 10.250.N.0/bits, bits between 16 and 24.
func newVethBits(t *testing.T, peerMAC net.HardwareAddr, bits int) *veth {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "ip")
	id := randomHex(t, 4)
	v := &veth{ns: "pvdhcp" + id, host: "pvh" + id, peer: "pvc" + id, prefix: freeTestPrefix(t, bits)}
	v.server = v.prefix.Addr().Next()
	run(t, "ip", "netns", "add", v.ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", v.ns).Run() })
	run(t, "ip", "link", "add", v.host, "type", "veth", "peer", "name", v.peer)
	t.Cleanup(func() { exec.Command("ip", "link", "del", v.host).Run() })
	run(t, "ip", "link", "set", v.peer, "netns", v.ns)
	run(t, "ip", "addr", "add", netip.PrefixFrom(v.server, bits).String(), "dev", v.host)
	run(t, "ip", "link", "set", v.host, "up")
	v.inNS(t, "ip", "link", "set", "lo", "up")
	v.inNS(t, "ip", "link", "set", v.peer, "address", peerMAC.String())
	v.inNS(t, "ip", "link", "set", v.peer, "up")
	return v
}

// addr returns the n-th address of the test prefix.
func (v *veth) addr(n uint32) netip.Addr {
	x := u32(v.prefix.Addr()) + n
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

func (v *veth) inNS(t *testing.T, args ...string) {
	t.Helper()
	run(t, append([]string{"ip", "netns", "exec", v.ns}, args...)...)
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freeTestPrefix picks a 10.250.N.0/bits that no interface uses.
func freeTestPrefix(t *testing.T, bits int) netip.Prefix {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for range 64 {
		var b [1]byte
		rand.Read(b[:])
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, b[0], 0}), bits).Masked()
		used := false
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && (p.Contains(ip) || n.Contains(p.Addr().AsSlice())) {
					used = true
				}
			}
		}
		if !used {
			return p
		}
	}
	t.Fatal("no free 10.250.N.0/24")
	return netip.Prefix{}
}

// serve runs a Server on the root side of v until the test ends.
func (v *veth) serve(t *testing.T, subnet Subnet, hosts *fakeHosts, events Events) *Server {
	t.Helper()
	conn, err := ListenInterface(v.host, netip.AddrPort{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := New(Config{ServerIP: v.server, HTTPBase: "http://" + v.server.String()}, hosts,
		NewMemoryLeases(hosts.reserved, nil), events, log)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, conn) })
	return srv
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// subnet is the test /24 as the registry would describe it.
func (v *veth) subnet(pool bool) Subnet {
	s := Subnet{Name: "veth", Prefix: v.prefix, Gateway: v.server, Domain: "test.example", LeaseTime: time.Hour}
	if pool {
		s.PoolStart, s.PoolEnd = v.addr(100), v.addr(199)
	}
	return s
}

// dhclient runs ISC dhclient once in the namespace, in the foreground, with
// a script that changes nothing (-sf /bin/true: no address, no
// resolv.conf), and returns the addresses of its lease file once it is
// bound, or nil when it gives up after timeout seconds.
func (v *veth) dhclient(t *testing.T, timeout int) []string {
	t.Helper()
	testenv.NeedCommand(t, "dhclient")
	dir := t.TempDir()
	conf, leases := dir+"/dhclient.conf", dir+"/dhclient.leases"
	writeFile(t, conf, fmt.Sprintf("timeout %d;\ninitial-interval 1;\nretry 1;\n", timeout))
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout+20)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", v.ns, "dhclient", "-4", "-d", "-1", "-v",
		"-cf", conf, "-sf", "/bin/true", "-lf", leases, "-pf", dir+"/dhclient.pid", v.peer)
	var stderr lineWaiter
	stderr.want, stderr.found = "bound to ", make(chan struct{})
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-stderr.found:
		cmd.Process.Kill() // -d never exits once bound
		<-exited
	case err := <-exited:
		t.Logf("dhclient exited (%v):\n%s", err, stderr.String())
		if ctx.Err() != nil {
			t.Fatal("dhclient hung")
		}
		return nil
	}
	t.Logf("dhclient:\n%s", stderr.String())
	return leaseAddrs(t, leases)
}
