package tftp

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"
)

// rrq sends a read request for name from a new socket and returns the
// socket and the first packet that answers it.
func rrq(t *testing.T, srv *net.UDPAddr, name string) (*net.UDPConn, []byte) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	pkt := append([]byte{0, 1}, name...)
	pkt = append(append(pkt, 0), "octet\x00"...)
	if _, err := c.WriteToUDP(pkt, srv); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no answer to RRQ %s: %v", name, err)
	}
	return c, buf[:n]
}

// Past MaxTransfers a request is refused at once with a TFTP error that
// says why, and the refusal is reported; the transfer in flight goes on.
func TestMaxTransfers(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: time.Second, MaxTransfers: 1})
	_, first := rrq(t, ts.addr, bootFile) // never acknowledged: holds the slot
	if first[1] != 3 {
		t.Fatalf("first RRQ answered with opcode %d, want DATA", first[1])
	}
	_, second := rrq(t, ts.addr, bootFile)
	if second[1] != 5 || !bytes.Contains(second, []byte("server busy")) {
		t.Fatalf("second RRQ answered %q, want an ERROR saying server busy", second)
	}
	select {
	case tr := <-ts.events:
		if !errors.Is(tr.Err, ErrBusy) {
			t.Errorf("first report %+v, want the refusal", tr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the refusal was not reported")
	}
}
