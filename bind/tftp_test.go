package bind

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"unicode"

	"github.com/provision/provision/tftp"
)

// A TFTP request's name and error text come from the network: the event
// put on a system's timeline holds no control character.
func TestTFTPEventStripsControls(t *testing.T) {
	snap := testRegistry(t).Snapshot()
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	tests := []tftp.Transfer{
		{Client: netip.MustParseAddr("10.0.0.11"), File: "\x1b[2J\x1b[Hlpxelinux.0", Bytes: 5},
		{Client: netip.MustParseAddr("192.0.2.1"), MAC: mac, File: "pxelinux.cfg/01-aa-bb-cc-dd-ee-01",
			Err: errors.New("the client ended the transfer with error 0: \x1b]0;owned\x07\r\ninstalled")},
	}
	for _, tr := range tests {
		ev, ok := TFTPEvent(snap, tr)
		if !ok || ev.System != "web001" {
			t.Fatalf("TFTPEvent(%+v) = %+v, %v; want an event of web001", tr, ev, ok)
		}
		if strings.ContainsFunc(ev.Detail, unicode.IsControl) {
			t.Errorf("event detail %q has control characters", ev.Detail)
		}
	}
}
