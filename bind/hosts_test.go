package bind

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
)

func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	ctx := context.Background()
	st, err := registry.OpenSQLite(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := registry.Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	sha := strings.Repeat("a", 64)
	steps := []func() error{
		func() error {
			_, err := r.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", DNSServers: []string{"10.0.0.2"}, Pool: "10.0.0.200-10.0.0.250"})
			return err
		},
		func() error {
			_, err := r.AddImage(ctx, registry.Image{Name: "img", Kind: "install", Files: map[string]registry.File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}})
			return err
		},
		func() error {
			_, err := r.AddProfile(ctx, registry.Profile{Name: "web", Image: "img", KernelArgs: "console=ttyS0", Loader: "pxelinux"})
			return err
		},
		func() error {
			_, err := r.AddSystem(ctx, registry.System{Name: "web001", MACs: []string{"aa:bb:cc:dd:ee:01"}, IP: "10.0.0.11", Profile: "web", Netboot: true, KernelArgs: "quiet"})
			return err
		},
	}
	for _, f := range steps {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func TestBootAdapters(t *testing.T) {
	b := Boot{Reg: testRegistry(t), BaseURL: "http://10.0.0.1/"}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	h, ok := b.HostByIP(netip.MustParseAddr("10.0.0.11"))
	if !ok || h.Name != "web001" || h.Image != "img" || h.KernelArgs != "console=ttyS0 quiet" || h.Zone != "dsas" {
		t.Fatalf("HostByIP: %+v %v", h, ok)
	}
	if _, ok := b.HostByMAC(net.HardwareAddr{2, 0, 0, 0, 0, 1}); ok {
		t.Fatal("unknown MAC found")
	}
	cfg, ok := b.BootConfigByMAC(mac)
	want := "console=ttyS0 quiet provision.host=web001 provision.zone=dsas provision.server=http://10.0.0.1"
	if !ok || cfg.Kernel != "http://10.0.0.1/images/img/kernel" || cfg.Args != want {
		t.Fatalf("BootConfigByMAC: %+v", cfg)
	}
	files, ok := b.ImageFiles("img")
	if !ok || files["kernel"] != strings.Repeat("a", 64) {
		t.Fatalf("ImageFiles: %v", files)
	}
}

func TestDHCPAdapter(t *testing.T) {
	d := NewDHCP(testRegistry(t), "")
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	h, ok := d.HostByMAC(mac)
	if !ok {
		t.Fatal("host not found")
	}
	want := dhcp.Host{Name: "web001", Hostname: "web001", MAC: mac, IP: netip.MustParseAddr("10.0.0.11"), Netboot: true, Loader: dhcp.LoaderPXELinux,
		Subnet: dhcp.Subnet{Name: "lan", Prefix: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"),
			DNS: []netip.Addr{netip.MustParseAddr("10.0.0.2")}, Domain: "dsas",
			PoolStart: netip.MustParseAddr("10.0.0.200"), PoolEnd: netip.MustParseAddr("10.0.0.250")}}
	if diff := cmp.Diff(want, h, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("HostByMAC (-want +got):\n%s", diff)
	}
	if s, ok := d.SubnetFor(netip.MustParseAddr("10.0.0.230")); !ok || s.Name != "lan" {
		t.Fatalf("SubnetFor: %+v", s)
	}
	if _, ok := d.SubnetFor(netip.MustParseAddr("192.168.1.1")); ok {
		t.Fatal("a subnet for an outside address")
	}
}

// The boot plan follows the state: a build under way boots the installer
// of its template's kind, then the local disk once it is installed, and
// the same in the TFTP configs; the template handler sees the build only
// while it is under way.
func TestPlanFollowsTheBuild(t *testing.T) {
	r := testRegistry(t)
	ctx := context.Background()
	p, _ := r.Snapshot().Profile("web")
	np := *p
	np.Kickstart = "debian12-preseed"
	if _, err := r.EditProfile(ctx, "web", np); err != nil {
		t.Fatal(err)
	}
	sys, _ := r.Snapshot().SystemByName("web001")
	if sys.Status != registry.StatePending {
		t.Fatalf("after the profile got a template: %s", sys.Status)
	}
	tok := string(sys.BuildToken)
	b := Boot{Reg: r, BaseURL: "http://10.0.0.1"}
	kept := NewBoot(r, "http://10.0.0.1")
	h, _ := b.HostByIP(netip.MustParseAddr("10.0.0.11"))
	if !h.Netboot || h.Install == nil || h.Install.Kind != "preseed" || h.Install.Token != tok {
		t.Fatalf("pending: %+v", h)
	}
	if hk, _ := kept.HostByIP(netip.MustParseAddr("10.0.0.11")); hk.Install == nil || hk.Install.Token != tok {
		t.Fatalf("pending, NewBoot: %+v", hk)
	}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	if c, _ := b.BootConfigByMAC(mac); !strings.Contains(c.Args, "url=http://10.0.0.1/ks/"+tok) || !c.Netboot {
		t.Fatalf("pxelinux config while pending: %+v", c)
	}
	builds := Builds{Reg: r, DNS: "10.0.0.1"}
	bd, ok := builds.ByIP(netip.MustParseAddr("10.0.0.11"))
	if !ok || bd.System != "web001" || bd.Template != "debian12-preseed" || strings.Join(bd.Data.System.DNS, ",") != "10.0.0.2" {
		t.Fatalf("ByIP: %+v %v", bd, ok)
	}
	if _, ok := builds.ByToken(tok, netip.MustParseAddr("10.0.0.12")); !ok {
		t.Fatal("a token from an address no system has is refused")
	}
	if _, ok := builds.ByToken(tok, netip.MustParseAddr("10.0.0.11")); !ok {
		t.Fatal("the system's own token is refused")
	}
	if _, err := r.AddSystem(ctx, registry.System{Name: "web002", MACs: []string{"aa:bb:cc:dd:ee:02"}, IP: "10.0.0.12", Profile: "web", Netboot: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := builds.ByToken(tok, netip.MustParseAddr("10.0.0.12")); ok {
		t.Fatal("web002 got web001's build with web001's token")
	}
	if err := builds.Done(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := builds.Done(ctx, tok); !errors.Is(err, kickstart.ErrNoBuild) {
		t.Fatalf("done twice: %v", err)
	}
	h, _ = b.HostByIP(netip.MustParseAddr("10.0.0.11"))
	if h.Netboot || h.Install != nil {
		t.Fatalf("installed: %+v", h)
	}
	if hk, _ := kept.HostByIP(netip.MustParseAddr("10.0.0.11")); hk.Netboot || hk.Install != nil {
		t.Fatalf("installed, NewBoot: %+v", hk)
	}
	if c, _ := b.BootConfigByMAC(mac); c.Netboot {
		t.Fatalf("pxelinux config once installed: %+v", c)
	}
	if _, ok := builds.ByToken(tok, netip.Addr{}); ok {
		t.Fatal("the template handler still sees an ended build")
	}
}

// A packet is answered from one snapshot: a change between its lookups
// does not show in the view it pinned, and the view of one snapshot is
// built once.
func TestDHCPViewPinsOneSnapshot(t *testing.T) {
	reg := testRegistry(t)
	d := NewDHCP(reg, "")
	v := d.Snapshot()
	if d.Snapshot() != v {
		t.Error("two views of one snapshot: its subnets are converted again")
	}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:02")
	if _, err := reg.AddSystem(context.Background(), registry.System{Name: "web002", MACs: []string{mac.String()}, IP: "10.0.0.12", Profile: "web", Netboot: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.HostByMAC(mac); ok {
		t.Error("the pinned view sees a system added after it")
	}
	if _, ok := d.HostByMAC(mac); !ok {
		t.Error("the adapter does not see the new system")
	}
	if d.Snapshot() == v {
		t.Error("a new snapshot kept the old view")
	}
}

// NewBoot's view of one snapshot makes each host once, and a change to the
// registry shows in the next; a build's host, which its deadline changes,
// is made anew every time.
func TestBootViewKeepsOneSnapshot(t *testing.T) {
	reg := testRegistry(t)
	b := NewBoot(reg, "")
	v := b.Snapshot()
	if b.Snapshot() != v {
		t.Error("two views of one snapshot")
	}
	ip := netip.MustParseAddr("10.0.0.11")
	h1, _ := v.HostByIP(ip)
	h2, _ := b.HostByIP(ip)
	if h1.KernelArgs != "console=ttyS0 quiet" || h2.KernelArgs != h1.KernelArgs {
		t.Fatalf("HostByIP: %+v, %+v", h1, h2)
	}
	if bv := v.(*bootView); len(bv.hosts) != 1 {
		t.Errorf("the view keeps %d hosts, want 1", len(bv.hosts))
	}
	f1, _ := v.ImageFiles("img")
	f2, _ := b.ImageFiles("img")
	if len(f1) != 2 || f1["kernel"] != f2["kernel"] {
		t.Errorf("ImageFiles: %v, %v", f1, f2)
	}
	sys, _ := reg.Snapshot().SystemByName("web001")
	edit := *sys
	edit.KernelArgs = "loud"
	if _, err := reg.EditSystem(context.Background(), "web001", edit); err != nil {
		t.Fatal(err)
	}
	if h, _ := v.HostByIP(ip); h.KernelArgs != "console=ttyS0 quiet" {
		t.Errorf("the pinned view sees a later edit: %+v", h)
	}
	if h, _ := b.HostByIP(ip); h.KernelArgs != "console=ttyS0 loud" {
		t.Errorf("after an edit: %+v", h)
	}
	p, _ := reg.Snapshot().Profile("web")
	np := *p
	np.Kickstart = "debian12-preseed"
	if _, err := reg.EditProfile(context.Background(), "web", np); err != nil {
		t.Fatal(err)
	}
	v = b.Snapshot()
	if h, _ := v.HostByIP(ip); h.Install == nil {
		t.Fatalf("pending: %+v", h)
	}
	if bv := v.(*bootView); len(bv.hosts) != 0 {
		t.Errorf("the view keeps a building host")
	}
}

// An appliance serves DHCP on the subnets of its site and those of none:
// another site's subnet, and the systems on it, do not exist for it.
func TestDHCPServesItsSite(t *testing.T) {
	reg := testRegistry(t)
	ctx := context.Background()
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "rack2", CIDR: "10.2.0.0/24", Site: "east"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddSystem(ctx, registry.System{Name: "east001", MACs: []string{"aa:bb:cc:dd:ee:21"}, IP: "10.2.0.21", Profile: "web", Netboot: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AddSubnet(ctx, registry.Subnet{Name: "bad", CIDR: "10.3.0.0/24", Site: "no site"}); err == nil || !strings.Contains(err.Error(), `subnet bad: site "no site"`) {
		t.Fatalf("a subnet with a bad site name: %v", err)
	}
	east, _ := net.ParseMAC("aa:bb:cc:dd:ee:21")
	lan, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	for _, c := range []struct {
		site          string
		east, lanHost bool
	}{{"", false, true}, {"west", false, true}, {"east", true, true}} {
		d := NewDHCP(reg, c.site)
		_, gotEast := d.HostByMAC(east)
		_, gotSub := d.SubnetFor(netip.MustParseAddr("10.2.0.1"))
		_, gotLan := d.HostByMAC(lan)
		if gotEast != c.east || gotSub != c.east || gotLan != c.lanHost {
			t.Errorf("site %q: east001 %v, subnet rack2 %v, web001 %v; want %v, %v, %v", c.site, gotEast, gotSub, gotLan, c.east, c.east, c.lanHost)
		}
	}
}
