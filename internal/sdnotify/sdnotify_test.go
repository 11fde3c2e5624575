package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
)

// A datagram reaches the socket systemd names, as sent; with no socket
// named, nothing is sent and it is no error.
func TestNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Notify("READY=1"); sent || err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v %v", sent, err)
	}
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if sent, err := Notify("READY=1\nSTATUS=serving"); !sent || err != nil {
		t.Fatalf("Notify: %v %v", sent, err)
	}
	buf := make([]byte, 256)
	n, _, err := conn.ReadFromUnix(buf)
	if err != nil || string(buf[:n]) != "READY=1\nSTATUS=serving" {
		t.Fatalf("systemd got %q, %v", buf[:n], err)
	}
}
