package tftp

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pin/tftp/v3"
	"github.com/provision/provision/internal/testenv"
)

// fetch gets a file with pin/tftp's client and returns it with the tsize
// the server announced (-1 if none).
func fetch(t testing.TB, addr *net.UDPAddr, name string, blksize int) ([]byte, int64, error) {
	t.Helper()
	c, err := tftp.NewClient(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	c.RequestTSize(true)
	if blksize > 0 {
		c.SetBlockSize(blksize)
	}
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return nil, -1, err
	}
	tsize, ok := wt.(tftp.IncomingTransfer).Size()
	if !ok {
		tsize = -1
	}
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.Bytes(), tsize, err
}

func TestFetchWithPinClient(t *testing.T) {
	root, boot := newRoot(t)
	ts := startServer(t, root, testHosts)
	config, err := os.ReadFile("testdata/pxelinux-web01.cfg")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		blksize int
		want    []byte
	}{
		{"boot loader, 512-byte blocks", bootFile, 0, boot},
		{"boot loader, blksize 1468", bootFile, 1468, boot},
		{"boot loader, blksize 8192", "/" + bootFile, 8192, boot},
		{"per-host pxelinux config", "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff", 0, config},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tsize, err := fetch(t, ts.addr, tt.file, tt.blksize)
			if err != nil {
				t.Fatalf("fetch %s: %v", tt.file, err)
			}
			if d := diffBytes(got, tt.want); d != "" {
				t.Errorf("fetch %s: %s", tt.file, d)
			}
			if tsize != int64(len(tt.want)) {
				t.Errorf("tsize = %d, want %d", tsize, len(tt.want))
			}
			ev := ts.event(t)
			if ev.Err != nil || ev.Bytes != int64(len(tt.want)) || ev.File != tt.file || ev.Client.String() != "127.0.0.1" {
				t.Errorf("event = %+v, want %d bytes of %s from 127.0.0.1, no error", ev, len(tt.want), tt.file)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	root, _ := newRoot(t)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, root, testHosts)
	const rrq, wrq = 1, 2
	tests := []struct {
		name     string
		opcode   uint16
		file     string
		wantCode int
		wantErr  error
	}{
		{"traversal", rrq, "../etc/passwd", errAccessViolation, fs.ErrPermission},
		{"deep traversal", rrq, "pxelinux.cfg/../../../etc/passwd", errAccessViolation, fs.ErrPermission},
		{"backslash traversal", rrq, `..\..\etc\passwd`, errAccessViolation, fs.ErrPermission},
		{"symlink out of the root", rrq, "link", errAccessViolation, fs.ErrPermission},
		{"absolute name stays in the root", rrq, "/etc/passwd", errNotFound, fs.ErrNotExist},
		{"unknown file", rrq, "nothing.efi", errNotFound, fs.ErrNotExist},
		{"unknown MAC", rrq, "pxelinux.cfg/01-00-11-22-33-44-55", errNotFound, fs.ErrNotExist},
		{"directory", rrq, "/", errNotFound, fs.ErrNotExist},
		{"fifo", rrq, "fifo", errNotFound, fs.ErrNotExist},
		{"write", wrq, "undionly.kpxe", errAccessViolation, fs.ErrPermission},
		{"write of a new file", wrq, "new.bin", errAccessViolation, fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := ts.request(t, tt.opcode, tt.file, "octet")
			if got := errorCode(reply); got != tt.wantCode {
				t.Errorf("reply %q: error code %d, want %d", reply, got, tt.wantCode)
			}
			if ev := ts.event(t); !errors.Is(ev.Err, tt.wantErr) || ev.File != tt.file {
				t.Errorf("event = %+v, want file %q, error %v", ev, tt.file, tt.wantErr)
			}
		})
	}
}

// A NUL ends the name on the wire (RFC 1350): what follows is the mode
// field (here octet, then an option without a value), and only the part
// before the NUL is looked up.
func TestNameWithNUL(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServer(t, root, nil)
	reply := ts.request(t, 1, "../etc/passwd\x00octet\x00"+bootFile, "octet")
	if got := errorCode(reply); got != errAccessViolation {
		t.Errorf("reply %q: error code %d, want %d", reply, got, errAccessViolation)
	}
	if ev := ts.event(t); ev.File != "../etc/passwd" || !errors.Is(ev.Err, fs.ErrPermission) {
		t.Errorf("event = %+v, want ../etc/passwd refused", ev)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	srv, err := New(Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, conn) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of cancel")
	}
}

func TestNewRefusesBadRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{file, filepath.Join(file, "missing")} {
		if _, err := New(Config{Root: root}); err == nil {
			t.Errorf("New(Root: %s) = nil error", root)
		}
	}
}

// TestGrubScriptCheck runs GRUB's own syntax checker on the GRUB configs.
func TestGrubScriptCheck(t *testing.T) {
	check := testenv.NeedCommand(t, "grub-script-check")
	files, err := filepath.Glob("testdata/grub*.cfg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no GRUB golden files: %v", err)
	}
	for _, f := range files {
		if out, err := exec.Command(check, f).CombinedOutput(); err != nil {
			t.Errorf("grub-script-check %s: %v\n%s", f, err, out)
		}
	}
}

// A client that stops acknowledging loses its transfer after the first
// DATA packet and 5 resends, each Timeout apart.
func TestTransferTimeout(t *testing.T) {
	root, _ := newRoot(t)
	ts := startServerConfig(t, Config{Root: root, Timeout: 100 * time.Millisecond})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.WriteToUDP(rrqPacket(bootFile), ts.addr); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(10 * time.Second))
	data := 0
	buf := make([]byte, 1500)
	for {
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("after %d DATA packets: %v", data, err)
		}
		if errorCode(buf[:n]) >= 0 {
			break
		}
		data++
	}
	if data != 6 {
		t.Errorf("got %d DATA packets before the ERROR, want 6", data)
	}
	if el := time.Since(start); el < 500*time.Millisecond || el > 5*time.Second {
		t.Errorf("transfer dropped after %v, want about 600ms", el)
	}
	if ev := ts.event(t); ev.Err == nil || ev.Bytes == 0 {
		t.Errorf("event = %+v, want a failed transfer", ev)
	}
}
