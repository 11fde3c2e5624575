package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rrq sends a read request for name from a new socket on 127.0.0.1 and
// returns the socket and the first packet that answers it.
func rrq(t *testing.T, srv *net.UDPAddr, name string) (*net.UDPConn, []byte) {
	return rrqFrom(t, srv, net.IPv4(127, 0, 0, 1), name)
}

// rrqFrom is rrq from a socket on ip (any 127.0.0.0/8 address is local).
func rrqFrom(t *testing.T, srv *net.UDPAddr, ip net.IP, name string) (*net.UDPConn, []byte) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.WriteToUDP(rrqPacket(name), srv); err != nil {
		t.Fatal(err)
	}
	return c, next(t, c, 5*time.Second)
}

// next returns the next packet c receives within d.
func next(t *testing.T, c *net.UDPConn, d time.Duration) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 1024)
	n, _, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("%s: nothing within %v: %v", c.LocalAddr(), d, err)
	}
	return buf[:n]
}

// rrqAck sends a read request from 127.0.0.1 and acknowledges DATA 1 at
// once, as a real client does; it returns the socket, with DATA 2 to come.
func rrqAck(t *testing.T, srv *net.UDPAddr, name string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.WriteToUDP(rrqPacket(name), srv); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1024)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil || !isData(buf[:n], 1) {
		t.Fatalf("RRQ %s: %q, %v; want DATA 1", name, buf[:n], err)
	}
	ack := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, opACK), 1)
	if _, err := c.WriteToUDP(ack, from); err != nil {
		t.Fatal(err)
	}
	return c
}

func isData(p []byte, block uint16) bool {
	return len(p) >= 4 && binary.BigEndian.Uint16(p) == opDATA && binary.BigEndian.Uint16(p[2:]) == block
}

// Past MaxTransfers of transfers that clients acknowledge, a request is
// refused at once with a TFTP error that says why, and the refusal is
// reported; the transfer in flight goes on.
func TestMaxTransfers(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: 200 * time.Millisecond, MaxTransfers: 1})
	c := rrqAck(t, ts.addr, bootFile) // the client answers: its transfer holds the slot
	if p := next(t, c, 5*time.Second); !isData(p, 2) {
		t.Fatalf("after ACK 1: %q, want DATA 2", p)
	}
	_, second := rrq(t, ts.addr, bootFile)
	if errorCode(second) != errUndefined || !bytes.Contains(second, []byte("server busy")) {
		t.Fatalf("second RRQ answered %q, want an ERROR saying server busy", second)
	}
	if tr := ts.event(t); !errors.Is(tr.Err, ErrBusy) {
		t.Errorf("first report %+v, want the refusal", tr)
	}
}

// A transfer whose client has not acknowledged anything gives way to a
// new request when every slot is taken: forged requests never answer.
func TestPendingGivesWay(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: 5 * time.Second, MaxTransfers: 1})
	forged, first := rrqFrom(t, ts.addr, net.IPv4(127, 0, 0, 2), bootFile)
	if !isData(first, 1) {
		t.Fatalf("first RRQ answered %q, want DATA 1", first)
	}
	if _, p := rrq(t, ts.addr, bootFile); !isData(p, 1) {
		t.Fatalf("second RRQ answered %q, want DATA 1", p)
	}
	tr := ts.event(t)
	if !errors.Is(tr.Err, ErrBusy) || tr.Client.String() != "127.0.0.2" || !strings.Contains(tr.Err.Error(), "gave way") {
		t.Errorf("report %+v, want 127.0.0.2's transfer given way", tr)
	}
	forged.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := forged.ReadFromUDP(make([]byte, 1024)); err == nil {
		t.Error("the transfer that gave way sent on")
	}
}

// One client (address) holds at most MaxPerClient transfers; others are
// still served.
func TestMaxPerClient(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: 5 * time.Second, MaxPerClient: 2})
	flooder := net.IPv4(127, 0, 0, 2)
	for i := range 2 {
		if _, p := rrqFrom(t, ts.addr, flooder, bootFile); !isData(p, 1) {
			t.Fatalf("RRQ %d answered %q, want DATA 1", i, p)
		}
	}
	if _, p := rrqFrom(t, ts.addr, flooder, bootFile); errorCode(p) != errUndefined || !bytes.Contains(p, []byte("server busy")) {
		t.Fatalf("third RRQ from %s answered %q, want server busy", flooder, p)
	}
	if tr := ts.event(t); !errors.Is(tr.Err, ErrBusy) || tr.Client.String() != "127.0.0.2" {
		t.Errorf("report %+v, want 127.0.0.2 refused", tr)
	}
	if _, p := rrq(t, ts.addr, bootFile); !isData(p, 1) {
		t.Fatalf("RRQ from 127.0.0.1 answered %q, want DATA 1", p)
	}
}

// Under pressure (more than half the slots taken) a transfer gets
// FirstACKTimeout for its first acknowledgement, not 6 × Timeout; without
// pressure it waits and resends as usual.
func TestFirstACKTimeout(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: time.Second, MaxTransfers: 4, FirstACKTimeout: 300 * time.Millisecond})

	alone, p := rrqFrom(t, ts.addr, net.IPv4(127, 0, 0, 2), bootFile)
	if !isData(p, 1) {
		t.Fatalf("RRQ answered %q, want DATA 1", p)
	}
	if p := next(t, alone, 3*time.Second); !isData(p, 1) {
		t.Fatalf("1 transfer of 4: after its timeout %q, want DATA 1 again", p)
	}
	for range 2 { // two transfers that a client answers: 3 of 4 slots taken
		rrqAck(t, ts.addr, bootFile)
	}
	start := time.Now()
	late, _ := rrqFrom(t, ts.addr, net.IPv4(127, 0, 0, 3), bootFile)
	for _, c := range []*net.UDPConn{alone, late} {
		for p := next(t, c, 7*time.Second); errorCode(p) < 0; p = next(t, c, 7*time.Second) {
		}
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("under pressure, unacknowledged transfers ended after %v, want about 300ms (6 × Timeout is 6s)", el)
	}
	for range 2 {
		if tr := ts.event(t); !strings.Contains(fmt.Sprint(tr.Err), "under pressure") {
			t.Errorf("report %+v, want a transfer dropped under pressure", tr)
		}
	}
}

// A client's timeout option (RFC 2349, up to 255 s) counts only once it
// has acknowledged a packet: a forged request asking for 255 s holds its
// slot 6 × the server's Timeout, not 25 minutes.
func TestTimeoutOptionAfterFirstACK(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: 100 * time.Millisecond})
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteToUDP(requestPacket(opRRQ, bootFile, "octet\x00timeout\x00255"), ts.addr); err != nil {
		t.Fatal(err)
	}
	for p := next(t, c, 5*time.Second); errorCode(p) < 0; p = next(t, c, 5*time.Second) {
		if binary.BigEndian.Uint16(p) != opOACK {
			t.Fatalf("got %q, want OACKs and then an ERROR", p)
		}
	}
	if tr := ts.event(t); !errors.Is(tr.Err, errTimeout) || tr.Duration > 3*time.Second {
		t.Errorf("report %+v, want no acknowledgement within about 600ms", tr)
	}
}
