package bind

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/provision/provision/images"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
)

// An unknown machine on a subnet with discovery on boots the inventory
// agent from the discovery image, with the discovery kernel arguments;
// on a subnet without it, it is unknown as before. A system under
// inspection boots the agent with its token, then what it booted before.
func TestDiscoveryBoot(t *testing.T) {
	ctx := context.Background()
	reg := testRegistry(t)
	b := Boot{Reg: reg}
	pool := netip.MustParseAddr("10.0.0.201")
	unknown := net.HardwareAddr{2, 0, 0, 0, 0, 9}
	if _, ok := b.HostByIP(pool); ok {
		t.Fatal("an unknown machine boots something on a subnet without discovery")
	}
	lan, _ := reg.Snapshot().Subnet("lan")
	sub := *lan
	sub.Discovery = true
	if _, err := reg.EditSubnet(ctx, "lan", sub); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.HostByIP(pool); ok {
		t.Fatal("a discovery boot without a discovery image (no boot environment built, no discovery.image)")
	}
	for k, v := range map[string]string{registry.SettingDiscoveryImage: "nosuch", registry.SettingDiscoveryArgs: "console=ttyS0 ${net0/mac}"} {
		if _, err := reg.SetSetting(ctx, k, v); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "setting "+k) {
			t.Errorf("setting %s %q: %v, want refused naming the setting", k, v, err)
		}
	}
	for k, v := range map[string]string{registry.SettingDiscoveryImage: "img", registry.SettingDiscoveryArgs: "console=ttyS0,115200n8"} {
		if _, err := reg.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	h, ok := b.HostByIP(pool)
	if !ok || h.Image != "img" || !h.Netboot || !strings.HasPrefix(h.Name, DiscoveryPrefix) {
		t.Fatalf("discovery host by IP: %+v %v", h, ok)
	}
	if got, want := cmdline(t, h, "http://10.0.0.1"), "console=ttyS0,115200n8 provision.discover=1 provision.server=http://10.0.0.1"; got != want {
		t.Errorf("discovery kernel command line\n got %s\nwant %s", got, want)
	}
	h, ok = b.HostByMAC(unknown, pool)
	if got := cmdline(t, h, "http://10.0.0.1"); !ok || !strings.Contains(got, "provision.mac=02:00:00:00:00:09") {
		t.Errorf("discovery host by MAC: %v %q", ok, got)
	}
	if _, ok := b.HostByMAC(unknown, netip.MustParseAddr("192.168.9.9")); ok {
		t.Error("a client on no discovery subnet boots the agent")
	}

	before := cmdline(t, mustHost(t, b, "10.0.0.11"), "http://10.0.0.1")
	token, err := reg.StartInspect(ctx, "web001")
	if err != nil {
		t.Fatal(err)
	}
	h = mustHost(t, b, "10.0.0.11")
	got := cmdline(t, h, "http://10.0.0.1")
	if !h.Netboot || h.Image != "img" || !strings.Contains(got, "provision.inspect="+string(token)) || !strings.Contains(got, "provision.host=web001") {
		t.Errorf("inspection of web001: %+v %q", h, got)
	}
	if _, _, err := reg.FinishInspect(ctx, string(token), inventory.Inventory{MAC: "aa:bb:cc:dd:ee:01"}, "10.0.0.11"); err != nil {
		t.Fatal(err)
	}
	if after := cmdline(t, mustHost(t, b, "10.0.0.11"), "http://10.0.0.1"); after != before {
		t.Errorf("after the inspection: %q, want what it booted before, %q", after, before)
	}
}

func mustHost(t *testing.T, b Boot, ip string) images.Host {
	t.Helper()
	h, ok := b.HostByIP(netip.MustParseAddr(ip))
	if !ok {
		t.Fatalf("no host at %s", ip)
	}
	return h
}
