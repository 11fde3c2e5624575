package bind

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
)

// building is the test registry with web001 (10.0.0.11, aa:bb:cc:dd:ee:01)
// pending an install: its boot scripts carry its build's token.
func building(t *testing.T) (*registry.Registry, string) {
	t.Helper()
	r := testRegistry(t)
	ctx := context.Background()
	p, _ := r.Snapshot().Profile("web")
	edit := *p
	edit.Kickstart = "debian12-preseed"
	if _, err := r.EditProfile(ctx, "web", edit); err != nil {
		t.Fatal(err)
	}
	sys, _ := r.Snapshot().SystemByName("web001")
	if sys.BuildToken == "" {
		t.Fatalf("web001 is %s, without a build token", sys.Status)
	}
	return r, string(sys.BuildToken)
}

// A build belongs to its machine: the script by MAC, the TFTP configs and
// the template by token are handed to the system's own address only;
// anyone else who names the MAC or presents the token gets nothing of it.
func TestBuildGoesOnlyToItsMachine(t *testing.T) {
	r, tok := building(t)
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	own := netip.MustParseAddr("10.0.0.11")
	for _, seen := range []*Seen{nil, {}} { // an appliance without DHCP has none
		b := NewBoot(r, "http://10.0.0.1")
		b.Seen = seen
		builds := Builds{Reg: r, DNS: "10.0.0.1", Seen: seen}
		for _, stranger := range []string{"127.0.0.1", "10.0.0.150", "10.0.0.12", "::1"} {
			from := netip.MustParseAddr(stranger)
			h, ok := b.HostByMAC(mac, from)
			if !ok || !h.Withheld || h.Netboot || h.Install != nil || h.Cmdline != nil {
				t.Errorf("script of web001 asked from %s: %+v, want it withheld", stranger, h)
			}
			s, err := script(t, b, h, "http://10.0.0.1")
			if err != nil || strings.Contains(s, tok) || !strings.Contains(s, "handed only to its own address") || strings.Contains(s, "kernel ") {
				t.Errorf("withheld script from %s (%v):\n%s", stranger, err, s)
			}
			if c, _ := b.BootConfigByMAC(mac, from); c.Netboot || !c.Withheld || strings.Contains(c.Args, tok) {
				t.Errorf("TFTP config of web001 asked from %s: %+v, want it withheld", stranger, c)
			}
			if _, ok := builds.ByToken(tok, from); ok {
				t.Errorf("the template by token was served to %s", stranger)
			}
		}
		if h, _ := b.HostByMAC(mac, own); h.Withheld || h.Install == nil || !strings.Contains(cmdline(t, h, "http://10.0.0.1"), "/ks/"+tok) {
			t.Errorf("script of web001 asked from its own address: %+v", h)
		}
		if c, _ := b.BootConfigByMAC(mac, own); !c.Netboot || c.Withheld || !strings.Contains(c.Args, "/ks/"+tok) {
			t.Errorf("TFTP config of web001 from its own address: %+v", c)
		}
		if _, ok := builds.ByToken(tok, own); !ok {
			t.Error("the template by token was refused to the machine itself")
		}
		// Over TFTP from 127.0.0.1, which is not web001: local boot, and why.
		for _, name := range []string{"pxelinux.cfg/01-aa-bb-cc-dd-ee-01", "grub/grub.cfg-01-aa-bb-cc-dd-ee-01"} {
			cfg, err := fetchTFTP(t, b, name)
			if err != nil || strings.Contains(cfg, tok) || !strings.Contains(cfg, "handed only to its own address") {
				t.Errorf("%s from 127.0.0.1 (%v):\n%s", name, err, cfg)
			}
		}
	}
}

// Behind a proxyDHCP another server hands out the address: the address DHCP
// saw the machine request (a Sighting) or be acknowledged at is its own.
func TestBuildFollowsTheAddressDHCPSaw(t *testing.T) {
	r, tok := building(t)
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	leased := netip.MustParseAddr("192.168.7.40")
	seen := &Seen{}
	b := NewBoot(r, "http://10.0.0.1")
	b.Seen = seen
	builds := Builds{Reg: r, Seen: seen}
	if h, _ := b.HostByMAC(mac, leased); !h.Withheld {
		t.Fatal("the build went to an address DHCP never saw")
	}
	events := DHCPEvents{Events: discard{}, Seen: seen}
	events.Sighted(dhcp.Sighting{Time: time.Now(), MAC: mac, IP: leased})
	if h, _ := b.HostByMAC(mac, leased); h.Withheld || h.Install == nil {
		t.Errorf("after DHCP saw web001 request %s: %+v", leased, h)
	}
	if _, ok := builds.ByToken(tok, leased); !ok {
		t.Error("the template by token was refused at the address DHCP saw")
	}
	// The machine moves: a proxy offer answered at port 4011 from ciaddr.
	moved := netip.MustParseAddr("192.168.7.41")
	events.Booted(dhcp.BootEvent{Time: time.Now(), MAC: mac, IP: moved, Host: "web001", Proxy: true})
	if _, ok := builds.ByToken(tok, leased); ok {
		t.Error("the old address still gets the build")
	}
	if _, ok := builds.ByToken(tok, moved); !ok {
		t.Error("the new address does not get the build")
	}
}

type discard struct{}

func (discard) Record(registry.Event) {}

var _ images.Hosts = Boot{}

// A withheld script is on the system's timeline, naming the client.
func TestWithheldEvent(t *testing.T) {
	ev, ok := BootEvent(images.BootEvent{Time: time.Now(), Host: "web001", Kind: images.KindScript, Client: netip.MustParseAddr("10.0.0.150"),
		Method: "GET", Path: "/boot/aa-bb-cc-dd-ee-01.ipxe", Status: 200, Err: images.ErrWithheld})
	if !ok || ev.Kind != "withheld" || !strings.Contains(ev.Detail, "10.0.0.150") || ev.System != "web001" {
		t.Errorf("event %+v, %v", ev, ok)
	}
}
