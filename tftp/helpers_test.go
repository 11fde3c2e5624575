package tftp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// fakeHosts is a Hosts backed by a map of MAC strings ("aa:bb:...").
type fakeHosts map[string]BootConfig

func (f fakeHosts) BootConfigByMAC(mac net.HardwareAddr, _ netip.Addr) (BootConfig, bool) {
	b, ok := f[mac.String()]
	return b, ok
}

var testHosts = fakeHosts{
	"aa:bb:cc:dd:ee:ff": {
		Name: "web01", Netboot: true,
		Kernel: "images/debian-12/vmlinuz", Initrd: "images/debian-12/initrd.gz",
		Args: "console=ttyS0,115200n8 provision.host=web01 provision.server=10.0.0.1",
	},
	"aa:bb:cc:dd:ee:01": {Name: "db01", Netboot: false},
	"aa:bb:cc:dd:ee:02": {
		Name: "web02", Netboot: true,
		Kernel: "http://10.0.0.1:8080/images/debian-12/vmlinuz",
		Initrd: "http://10.0.0.1/images/debian-12/initrd.gz",
		Args:   "auto=true url=http://10.0.0.1/ks?host=web02&x='1'",
	},
}

// bootFile is a boot loader copied into every test root: the real one from
// Debian's ipxe package, or 400 KiB of random bytes where it is missing.
const (
	bootFile    = "undionly.kpxe"
	bootFileSrc = "/usr/lib/ipxe/undionly.kpxe"
)

// newRoot makes a TFTP root with bootFile in it and returns the root and
// the file's bytes.
func newRoot(t testing.TB) (string, []byte) {
	t.Helper()
	root := t.TempDir()
	data, err := os.ReadFile(bootFileSrc)
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("Debian package ipxe missing under CI=true: %v", err)
		}
		t.Logf("%v: using 400 KiB of random bytes", err)
		data = make([]byte, 400<<10)
		rand.Read(data)
	}
	if err := os.WriteFile(filepath.Join(root, bootFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, data
}

// testServer is a Server running on 127.0.0.1:0 for one test.
type testServer struct {
	addr   *net.UDPAddr
	events chan Transfer
}

// startServer serves root until the test ends; Serve's return is checked.
func startServer(t testing.TB, root string, hosts Hosts) *testServer {
	t.Helper()
	return startServerConfig(t, Config{Root: root, Hosts: hosts, Timeout: time.Second})
}

// startServerConfig is startServer with a whole Config; its OnTransfer is
// replaced by one that feeds testServer.events.
func startServerConfig(t testing.TB, cfg Config) *testServer {
	t.Helper()
	ts := &testServer{events: make(chan Transfer, 1000)}
	cfg.OnTransfer = func(tr Transfer) {
		select {
		case ts.events <- tr:
		default:
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = conn.LocalAddr().(*net.UDPAddr)
	testenv.Serve(t, func(ctx context.Context) error { return srv.Serve(ctx, conn) })
	return ts
}

// event waits for the report of the next request.
func (ts *testServer) event(t testing.TB) Transfer {
	t.Helper()
	select {
	case tr := <-ts.events:
		return tr
	case <-time.After(10 * time.Second):
		t.Fatal("no transfer reported within 10s")
		return Transfer{}
	}
}

// request sends one raw request packet (opcode 1 RRQ or 2 WRQ, RFC 1350)
// and returns the first packet that answers it.
func (ts *testServer) request(t testing.TB, opcode uint16, name, mode string) []byte {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.WriteToUDP(requestPacket(opcode, name, mode), ts.addr); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no reply to %q: %v", name, err)
	}
	return buf[:n]
}

// requestPacket is  | opcode | name | 0 | mode | 0 |  (RFC 1350, section 5).
func requestPacket(opcode uint16, name, mode string) []byte {
	p := binary.BigEndian.AppendUint16(nil, opcode)
	p = append(append(p, name...), 0)
	return append(append(p, mode...), 0)
}

func rrqPacket(name string) []byte { return requestPacket(1, name, "octet") }

// errorCode returns the code of an ERROR packet, or -1 for another packet.
func errorCode(p []byte) int {
	if len(p) < 4 || binary.BigEndian.Uint16(p) != opError {
		return -1
	}
	return int(binary.BigEndian.Uint16(p[2:]))
}

// diffBytes says where two byte slices first differ, for failure messages.
func diffBytes(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}
