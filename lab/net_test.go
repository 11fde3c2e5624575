package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// TestNetListen serves HTTP from this process on a socket made in the
// server namespace and fetches it with busybox wget run there.
func TestNetListen(t *testing.T) {
	e := testEnv(t)
	n, err := e.NewNet("listen")
	check(t, err)
	l, err := e.Listen(n, "tcp4", n.ServerIP.String()+":0")
	check(t, err)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from the server namespace\n")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	testenv.NeedCommand(t, "busybox")
	if got, err := n.Run("busybox", "wget", "-q", "-O-", "http://"+l.Addr().String()+"/"); err != nil || got != "from the server namespace\n" {
		t.Errorf("wget got %q, %v", got, err)
	}
	// The process itself stayed in its namespace, where that address is not.
	if l2, err := net.Listen("tcp4", n.ServerIP.String()+":0"); err == nil {
		l2.Close()
		t.Errorf("listening on %s worked outside the server namespace", n.ServerIP)
	}
}

// TestNetExec runs a process in the server namespace and waits on its
// output; cleanup stops it.
func TestNetExec(t *testing.T) {
	e := testEnv(t)
	n, err := e.NewNet("exec")
	check(t, err)
	testenv.NeedCommand(t, "busybox")
	p, err := e.Exec(n, "busybox", "sh", "-c", "ip -4 -o addr show dev "+ServerIface+"; echo ready; exec sleep 600")
	check(t, err)
	if _, err := p.WaitFor(regexp.MustCompile(`^ready$`), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitFor(regexp.MustCompile(regexp.QuoteMeta(n.ServerIP.String()+"/24")), time.Second); err != nil {
		t.Errorf("server address: %v\n%s", err, p)
	}
	p.Stop()
	if err := p.Wait(time.Second); err == nil {
		t.Error("sleep 600 exited with status 0 after Stop")
	}
}

// TestNetCleanup checks that a Net's namespaces are gone after Close, and
// that NewNet sweeps namespaces left by a process that has died.
func TestNetCleanup(t *testing.T) {
	testenv.NeedRoot(t)
	stale := nsPrefix + "999999999-0-stale-br"
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })
	e, err := New(context.Background(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.NewNet("cleanup")
	e.Close()
	check(t, err)
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{n.BridgeNS, n.ServerNS, stale} {
		if strings.Contains(string(out), ns) {
			t.Errorf("namespace %s still there", ns)
		}
	}
}

// TestRouterAdvertisement sends a router solicitation from the server
// namespace and expects the empty advertisement back.
func TestRouterAdvertisement(t *testing.T) {
	n, err := testEnv(t).NewNet("ra")
	check(t, err)
	if _, err := n.Run("ip", "addr", "add", "fe80::2/64", "dev", ServerIface, "nodad"); err != nil {
		t.Fatal(err)
	}
	var c *net.IPConn
	var idx int
	err = inNamespace(n.ServerNS, func() error {
		ifi, err := net.InterfaceByName(ServerIface)
		if err != nil {
			return err
		}
		idx = ifi.Index
		pc, err := net.ListenPacket("ip6:ipv6-icmp", "fe80::2%"+ServerIface)
		c, _ = pc.(*net.IPConn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := routerSocketOptions(c, idx); err != nil { // hop limit 255
		t.Fatal(err)
	}
	rs := []byte{icmpRouterSolicitation, 0, 0, 0, 0, 0, 0, 0}
	if _, err := c.WriteTo(rs, &net.IPAddr{IP: net.ParseIP("ff02::2"), Zone: strconv.Itoa(idx)}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	for {
		m, from, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no router advertisement: %v", err)
		}
		if m > 0 && buf[0] == icmpRouterAdvertisement {
			if got := fmt.Sprintf("%x from %v", buf[4:m], from.(*net.IPAddr).IP); got != "000000000000000000000000 from fe80::1" {
				t.Errorf("advertisement %s, want zeros from fe80::1", got)
			}
			return
		}
	}
}
