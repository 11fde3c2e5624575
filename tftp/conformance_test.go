package tftp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// Conformance with RFC 1350 (modes), 2347 (options), 2348 (blksize 8 to
// 65464) and 2349 (tsize, timeout), as tftpd-hpa answers: real clients
// fetch byte-identical files, and raw requests check what is on the wire.

// busybox's tftp asks for blksize (-b) and tsize; below 512 the file it
// writes must still be whole.
func TestBusyBoxBlockSizes(t *testing.T) {
	busybox := testenv.NeedCommand(t, "busybox")
	root, boot := newRoot(t)
	ts := startServer(t, root, testHosts)
	config, err := os.ReadFile("testdata/pxelinux-web01.cfg")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		blksize int
		want    []byte
	}{
		{bootFile, 256, boot},
		{bootFile, 511, boot},
		{bootFile, 512, boot},
		{bootFile, 1468, boot},
		{"pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", 128, config}, // busybox asks no less for a name this long
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s blksize %d", tt.file, tt.blksize), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			code, output := run(t, dir, busybox, "tftp", "-g", "-b", fmt.Sprint(tt.blksize), "-r", tt.file, "-l", out,
				ts.addr.IP.String(), fmt.Sprint(ts.addr.Port))
			if code != 0 {
				t.Fatalf("busybox tftp: exit %d\n%s", code, output)
			}
			checkFile(t, out, tt.want)
			if ev := ts.event(t); ev.Err != nil || ev.Bytes != int64(len(tt.want)) {
				t.Errorf("event = %+v, want %d bytes, no error", ev, len(tt.want))
			}
		})
	}
}

// tftp-hpa's client in ascii mode (netascii on the wire) gets the text
// back as the server holds it.
func TestTFTPHPANetASCII(t *testing.T) {
	tftp := testenv.NeedCommand(t, "tftp")
	root, _ := newRoot(t)
	ts := startServer(t, root, testHosts)
	config, err := os.ReadFile("testdata/pxelinux-web01.cfg")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	code, output := run(t, dir, tftp, ts.addr.IP.String(), fmt.Sprint(ts.addr.Port), "-m", "ascii", "-c", "get", "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", "out")
	if code != 0 || output != "" {
		t.Fatalf("tftp -m ascii: exit %d\n%s", code, output)
	}
	checkFile(t, filepath.Join(dir, "out"), config)
	ts.event(t)

	wire := askAndAbort(t, ts, "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", "NetASCII")
	want := bytes.ReplaceAll(config, []byte("\n"), []byte("\r\n"))
	if len(wire) < 4 || !bytes.Equal(wire[4:], want[:len(wire)-4]) {
		t.Errorf("DATA 1 in mode NetASCII = %q, want lines ending in CR LF", wire)
	}
	ts.event(t)
}

// Raw requests: mode and option names in any case, blksize below 512,
// unknown modes refused with error 4.
func TestRequestsOnTheWire(t *testing.T) {
	root, boot := newRoot(t)
	ts := startServer(t, root, testHosts)
	size := fmt.Sprint(len(boot))
	tests := []struct {
		name     string
		mode     string
		opts     []string // name, value, ...
		wantOACK []string // expected OACK, in order; nil: DATA 1 or an ERROR
		wantData int      // expected length of DATA 1 when no OACK, 0: none
		wantCode int      // expected ERROR code, -1: none
	}{
		{"octet, no options", "octet", nil, nil, 512, -1},
		{"mode in capitals", "OCTET", nil, nil, 512, -1},
		{"options in capitals", "octet", []string{"BLKSIZE", "1024", "TSIZE", "0"}, []string{"blksize", "1024", "tsize", size}, 0, -1},
		{"mixed case", "Octet", []string{"BlkSize", "256", "tSize", "0"}, []string{"blksize", "256", "tsize", size}, 0, -1},
		{"smallest blksize", "octet", []string{"blksize", "8"}, []string{"blksize", "8"}, 0, -1},
		{"blksize below the RFC's 8 is ignored", "octet", []string{"blksize", "7"}, nil, 512, -1},
		{"largest blksize", "octet", []string{"blksize", "65464"}, []string{"blksize", "65464"}, 0, -1},
		{"timeout", "octet", []string{"timeout", "3"}, []string{"timeout", "3"}, 0, -1},
		{"timeout out of range is ignored", "octet", []string{"timeout", "0"}, nil, 512, -1},
		{"unknown option is ignored", "octet", []string{"windowsize", "4"}, nil, 512, -1},
		{"netascii has no tsize", "NETASCII", []string{"tsize", "0", "blksize", "512"}, []string{"blksize", "512"}, 0, -1},
		{"unknown mode", "binary", nil, nil, 0, errIllegalOp},
		{"mail mode is for writes", "mail", nil, nil, 0, errIllegalOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := askAndAbort(t, ts, bootFile, strings.Join(append([]string{tt.mode}, tt.opts...), "\x00"))
			switch {
			case tt.wantCode >= 0:
				if errorCode(p) != tt.wantCode {
					t.Errorf("reply %q, want ERROR %d", p, tt.wantCode)
				}
			case tt.wantOACK != nil:
				want := oackPacket(tt.wantOACK)
				if !bytes.Equal(p, want) {
					t.Errorf("reply %q, want OACK %q", p, want)
				}
			default:
				if len(p) != 4+tt.wantData || binary.BigEndian.Uint16(p) != opDATA {
					t.Errorf("reply %q (%d bytes), want DATA 1 of %d bytes", p[:min(len(p), 40)], len(p), tt.wantData)
				}
			}
			ts.event(t)
		})
	}
}

// askAndAbort sends an RRQ for name with mode (and options after it,
// NUL-separated) and returns the first reply; a transfer it started is
// ended at once with an ERROR from the client (RFC 1350).
func askAndAbort(t *testing.T, ts *testServer, name, mode string) []byte {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WriteToUDP(requestPacket(opRRQ, name, mode), ts.addr); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 70000)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	if errorCode(buf[:n]) < 0 {
		abort := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, opError), errUndefined)
		c.WriteToUDP(append(abort, "test done\x00"...), from)
	}
	return buf[:n]
}
