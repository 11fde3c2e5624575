package bind

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	pintftp "github.com/pin/tftp/v3"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/images"
	"github.com/provision/provision/kickstart"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
	"github.com/provision/provision/tftp"
)

// testRegistry is registrytest's small network: subnet lan, image img,
// profile web (pxelinux, console=ttyS0), system web001 (quiet).
func testRegistry(t *testing.T) *registry.Registry { return registrytest.Seeded(t) }

// cmdline is the kernel command line that the iPXE script of h gets from
// server (without initrd=).
func cmdline(t *testing.T, h images.Host, server string) string {
	t.Helper()
	b, err := h.Cmdline(nil, server, h.MAC, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBootAdapters(t *testing.T) {
	b := Boot{Reg: testRegistry(t), BaseURL: "http://10.0.0.1/"}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	h, ok := b.HostByIP(netip.MustParseAddr("10.0.0.11"))
	want := "console=ttyS0 quiet provision.host=web001 provision.zone=dsas provision.server=http://10.0.0.1"
	if !ok || h.Name != "web001" || h.Image != "img" || cmdline(t, h, "http://10.0.0.1") != want {
		t.Fatalf("HostByIP: %+v %v", h, ok)
	}
	if _, ok := b.HostByMAC(net.HardwareAddr{2, 0, 0, 0, 0, 1}, netip.Addr{}); ok {
		t.Fatal("unknown MAC found")
	}
	cfg, ok := b.BootConfigByMAC(mac, netip.Addr{})
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
	if !h.Netboot || h.Install == nil || h.Install.Kind != "preseed" || !strings.Contains(cmdline(t, h, "http://10.0.0.1"), " url=http://10.0.0.1/ks/"+tok+" ") {
		t.Fatalf("pending: %+v", h)
	}
	if hk, _ := kept.HostByIP(netip.MustParseAddr("10.0.0.11")); hk.Install == nil || !strings.Contains(cmdline(t, hk, "s"), "url=s/ks/"+tok) {
		t.Fatalf("pending, NewBoot: %+v", hk)
	}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	own, stranger := netip.MustParseAddr("10.0.0.11"), netip.MustParseAddr("10.0.0.12")
	if c, _ := b.BootConfigByMAC(mac, own); !strings.Contains(c.Args, "url=http://10.0.0.1/ks/"+tok) || !c.Netboot {
		t.Fatalf("pxelinux config while pending: %+v", c)
	}
	builds := Builds{Reg: r, DNS: "10.0.0.1"}
	bd, ok := builds.ByIP(netip.MustParseAddr("10.0.0.11"))
	if !ok || bd.System != "web001" || bd.Template != "debian12-preseed" || strings.Join(bd.Data.System.DNS, ",") != "10.0.0.2" {
		t.Fatalf("ByIP: %+v %v", bd, ok)
	}
	if _, ok := builds.ByToken(tok, stranger); ok {
		t.Fatal("the token was taken from an address no system has")
	}
	if _, ok := builds.ByToken(tok, own); !ok {
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
	if c, _ := b.BootConfigByMAC(mac, own); c.Netboot {
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
	const line = "console=ttyS0 quiet provision.host=web001 provision.zone=dsas provision.server=s"
	if cmdline(t, h1, "s") != line || cmdline(t, h2, "s") != line {
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
	if h, _ := v.HostByIP(ip); cmdline(t, h, "s") != line {
		t.Errorf("the pinned view sees a later edit: %s", cmdline(t, h, "s"))
	}
	if h, _ := b.HostByIP(ip); !strings.HasPrefix(cmdline(t, h, "s"), "console=ttyS0 loud ") {
		t.Errorf("after an edit: %s", cmdline(t, h, "s"))
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

// script renders the iPXE script of h from server, with the image files
// that hosts has.
func script(t *testing.T, hosts images.Hosts, h images.Host, server string) (string, error) {
	t.Helper()
	files, _ := hosts.ImageFiles(h.Image)
	b, err := images.Script(h, server, files)
	return string(b), err
}

// kernelLine is the command line of the kernel line of an iPXE script.
func kernelLine(t *testing.T, script string) string {
	t.Helper()
	for l := range strings.Lines(script) {
		if rest, ok := strings.CutPrefix(l, "kernel "); ok {
			_, line, _ := strings.Cut(strings.TrimSuffix(rest, " || goto failed\n"), " ")
			return line
		}
	}
	t.Fatalf("no kernel line in\n%s", script)
	return ""
}

// goldenDoc is the registry the iPXE goldens of package images describe:
// zone internal, image centos9, profile web and db, on subnet lan.
func goldenDoc(profiles []registry.Profile, systems ...registry.System) registry.Document {
	return registry.Document{
		Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24"}},
		Images: []registry.Image{{Name: "centos9", Kind: registry.KindInstall,
			Files: map[string]registry.File{"kernel": {SHA256: registrytest.SHA}, "initrd": {SHA256: registrytest.SHA}}}},
		Profiles: profiles, Systems: systems,
	}
}

// The iPXE scripts of systems in the registry are byte for byte the
// goldens that package images writes from hosts spelled out by hand: the
// command line that the registry makes is the one the script had.
func TestScriptsFromRegistryMatchGoldens(t *testing.T) {
	const odd = "  inst.ks=\"http://10.0.0.1/ks/a   b\"   root=live:http://h/x?a=1&b=2%20 " +
		"init=/bin/sh$HOME 'single' -- x=é a#b y||z a;b & $ {x} "
	web := registry.Profile{Name: "web", Image: "centos9", KernelArgs: "console=ttyS0,115200n8 inst.ks=http://10.0.0.1/ks/web01"}
	db := registry.Profile{Name: "db", Image: "centos9", KernelArgs: "quiet"}
	sys := func(name, mac, state string, netboot bool) registry.System {
		return registry.System{Name: name, MACs: []string{mac}, IP: "10.0.0.11", Netboot: netboot, Status: state}
	}
	on := func(s registry.System, profile string) registry.System { s.Profile = profile; return s }
	installing := on(sys("inst01", "52:54:00:aa:bb:01", registry.StatePending, true), "web")
	installing.BuildToken = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		golden, server string
		doc            registry.Document
	}{
		{"web01.ipxe", "http://10.0.0.1:8080", goldenDoc([]registry.Profile{web}, on(sys("web01", "52:54:00:aa:bb:01", "", true), "web"))},
		{"db01-local.ipxe", "http://10.0.0.1:8080", goldenDoc([]registry.Profile{db}, on(sys("db01", "52:54:00:aa:bb:02", "", false), "db"))},
		{"done01-installed.ipxe", "http://10.0.0.1", goldenDoc([]registry.Profile{{Name: "db", Image: "centos9", Kickstart: "debian12-preseed"}},
			on(sys("done01", "52:54:00:aa:bb:02", registry.StateInstalled, true), "db"))},
		{"inst01-installer.ipxe", "http://10.0.0.1", goldenDoc([]registry.Profile{{Name: "web", Image: "centos9", KernelArgs: "console=ttyS0", Kickstart: "debian12-preseed"}},
			installing)},
		{"odd01-quoting.ipxe", "http://[fd00::1]:8080/prov", goldenDoc([]registry.Profile{{Name: "web", Image: "centos9", KernelArgs: odd}},
			on(sys("odd01", "52:54:00:aa:bb:01", "", true), "web"))},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r := registrytest.OpenZone(t, "internal")
			registrytest.Import(t, r, tt.doc)
			b := NewBoot(r, "")
			h, ok := b.HostByIP(netip.MustParseAddr("10.0.0.11"))
			if !ok {
				t.Fatal("no host at 10.0.0.11")
			}
			got, err := script(t, b, h, tt.server)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("..", "images", "testdata", tt.golden))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("script (-golden +registry):\n%s", diff)
			}
		})
	}
}

// fetchTFTP gets name from a TFTP server serving b's configs.
func fetchTFTP(t *testing.T, b Boot, name string) (string, error) {
	t.Helper()
	srv, err := tftp.New(tftp.Config{Root: t.TempDir(), Hosts: b})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, conn) }()
	defer func() { stop(); <-done }()
	c, err := pintftp.NewClient(conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetTimeout(2 * time.Second)
	wt, err := c.Receive(name, "octet")
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	_, err = wt.WriteTo(&buf)
	return buf.String(), err
}

// configLine is the kernel command line of a pxelinux config (its APPEND)
// or of a GRUB config (the words after the kernel on its linux line,
// unquoted and joined).
func configLine(t *testing.T, cfg string) string {
	t.Helper()
	for l := range strings.Lines(cfg) {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "APPEND "); ok {
			return rest
		}
		if rest, ok := strings.CutPrefix(l, "linux "); ok {
			words := strings.Split(rest, "' '") // grubquote: 'word' 'word', no quote inside these
			for i := range words {
				words[i] = strings.Trim(words[i], "'")
			}
			return strings.Join(words[1:], " ")
		}
	}
	t.Fatalf("no kernel command line in\n%s", cfg)
	return ""
}

// A system's kernel command line is one: the registry's KernelArgs, which
// the iPXE script (with its initrd= first), the pxelinux config and the
// GRUB config all carry, for a plain boot, an installer and a diskless
// boot environment booted through its second MAC.
func TestOneKernelCmdline(t *testing.T) {
	r := testRegistry(t)
	ctx := context.Background()
	disk := registry.Image{Name: "live", Kind: registry.KindDiskless, Unpacked: 4096, Files: map[string]registry.File{
		"kernel": {SHA256: registrytest.SHA}, "initrd": {SHA256: registrytest.SHA}, "rootfs": {SHA256: strings.Repeat("c", 64), Size: 1234}}}
	registrytest.Must(t,
		func() error { _, err := r.AddImage(ctx, disk); return err },
		func() error {
			_, err := r.AddProfile(ctx, registry.Profile{Name: "live", Image: "live", KernelArgs: "console=ttyS1  loglevel=3"})
			return err
		},
		func() error {
			_, err := r.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "rhel9-kickstart", Loader: registry.LoaderGRUB})
			return err
		},
		func() error {
			_, err := r.AddSystem(ctx, registry.System{Name: "live01", MACs: []string{"aa:bb:cc:dd:ee:21", "aa:bb:cc:dd:ee:22"}, IP: "10.0.0.21", Profile: "live", Netboot: true})
			return err
		},
		func() error {
			_, err := r.AddSystem(ctx, registry.System{Name: "inst01", MACs: []string{"aa:bb:cc:dd:ee:31"}, IP: "10.0.0.31", Profile: "inst", Netboot: true, KernelArgs: "nomodeset"})
			return err
		},
	)
	const server = "http://10.0.0.1:8080"
	snap := r.Snapshot()
	tok := func(name string) string { s, _ := snap.SystemByName(name); return string(s.BuildToken) }
	tests := []struct {
		system, mac, want string
	}{
		{"web001", "aa:bb:cc:dd:ee:01", "console=ttyS0 quiet provision.host=web001 provision.zone=dsas provision.server=" + server},
		{"live01", "aa:bb:cc:dd:ee:22", "console=ttyS1 loglevel=3 provision.image=live provision.mac=aa:bb:cc:dd:ee:22 " +
			"provision.rootfs.sha256=" + strings.Repeat("c", 64) + " provision.rootfs.size=1234 provision.rootfs.unpacked=4096 " +
			"provision.host=live01 provision.zone=dsas provision.server=" + server},
		{"inst01", "aa:bb:cc:dd:ee:31", "nomodeset inst.ks=" + server + "/ks/" + tok("inst01") + " provision.ks=" + server + "/ks/" + tok("inst01") +
			" provision.host=inst01 provision.zone=dsas provision.server=" + server},
	}
	b := NewBoot(r, server)
	for _, tt := range tests {
		t.Run(tt.system, func(t *testing.T) {
			mac, _ := net.ParseMAC(tt.mac)
			sys, _ := snap.SystemByName(tt.system)
			line, err := snap.KernelArgs(sys, snap.BootPlan(sys, time.Now()), registry.BootVia{Server: server, MAC: mac})
			if err != nil || line != tt.want {
				t.Fatalf("KernelArgs = %q, %v\nwant %q", line, err, tt.want)
			}
			h, _ := b.HostByMAC(mac, netip.MustParseAddr(sys.IP))
			s, err := script(t, b, h, server)
			if err != nil {
				t.Fatal(err)
			}
			if got := kernelLine(t, s); got != "initrd=initrd "+line {
				t.Errorf("iPXE:     %q\nregistry: %q", got, line)
			}
			// The TFTP client is 127.0.0.1: where DHCP saw the machine.
			b.Seen = &Seen{}
			b.Seen.Saw(mac, netip.MustParseAddr("127.0.0.1"))
			dashes := strings.ReplaceAll(tt.mac, ":", "-")
			for _, name := range []string{"pxelinux.cfg/01-" + dashes, "grub/grub.cfg-01-" + dashes} {
				cfg, err := fetchTFTP(t, b, name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got := configLine(t, cfg); got != line {
					t.Errorf("%s: %q\nregistry: %q", name, got, line)
				}
			}
		})
	}
}

// Arguments within Linux's limit when they were written can make a line
// over it once the boot adds the server's URL: the script and the TFTP
// configs then fail, naming the system, and serve no line Linux would cut.
func TestCmdlineTooLongAtBoot(t *testing.T) {
	r := testRegistry(t)
	sys, _ := r.Snapshot().SystemByName("web001")
	edit := *sys
	edit.KernelArgs = strings.Repeat("x", registry.MaxCmdline-len("console=ttyS0 ")-10)
	if _, err := r.EditSystem(context.Background(), "web001", edit); err != nil {
		t.Fatal(err)
	}
	b := NewBoot(r, "http://10.0.0.1")
	h, _ := b.HostByIP(netip.MustParseAddr("10.0.0.11"))
	_, err := script(t, b, h, "http://10.0.0.1")
	if err == nil || !strings.Contains(err.Error(), "system web001: kernel command line is") || !strings.Contains(err.Error(), "Linux takes 2047") {
		t.Errorf("script: %v", err)
	}
	mac, _ := net.ParseMAC("aa:bb:cc:dd:ee:01")
	if c, _ := b.BootConfigByMAC(mac, netip.Addr{}); c.Err == nil || !strings.Contains(c.Err.Error(), "system web001: kernel command line is") {
		t.Errorf("pxelinux config: %+v", c)
	}
	if cfg, err := fetchTFTP(t, b, "pxelinux.cfg/01-aa-bb-cc-dd-ee-01"); err == nil {
		t.Errorf("TFTP served\n%s", cfg)
	}
}

// A kept host remembers its command line for the request it was made for
// only: another server, MAC or initrd name makes it anew.
func TestCmdlineRemembersItsRequest(t *testing.T) {
	r := testRegistry(t)
	ctx := context.Background()
	live := registry.Image{Name: "live", Kind: registry.KindDiskless, Files: map[string]registry.File{
		"kernel": {SHA256: registrytest.SHA}, "initrd": {SHA256: registrytest.SHA}, "rootfs": {SHA256: registrytest.SHA}}}
	registrytest.Must(t,
		func() error { _, err := r.AddImage(ctx, live); return err },
		func() error { _, err := r.AddProfile(ctx, registry.Profile{Name: "live", Image: "live"}); return err },
		func() error {
			_, err := r.AddSystem(ctx, registry.System{Name: "live01", MACs: []string{"aa:bb:cc:dd:ee:21", "aa:bb:cc:dd:ee:22"}, IP: "10.0.0.21", Profile: "live", Netboot: true})
			return err
		})
	h, _ := NewBoot(r, "").HostByIP(netip.MustParseAddr("10.0.0.21"))
	mac1, _ := net.ParseMAC("aa:bb:cc:dd:ee:21")
	mac2, _ := net.ParseMAC("aa:bb:cc:dd:ee:22")
	for _, c := range []struct {
		server string
		mac    net.HardwareAddr
		initrd string
		want   []string
	}{
		{"http://a", mac1, "", []string{"provision.mac=aa:bb:cc:dd:ee:21 ", "provision.server=http://a"}},
		{"http://a", mac1, "", []string{"provision.mac=aa:bb:cc:dd:ee:21 ", "provision.server=http://a"}},
		{"http://b", mac1, "", []string{"provision.server=http://b"}},
		{"http://b", mac2, "", []string{"provision.mac=aa:bb:cc:dd:ee:22 "}},
		{"http://b", mac2, "initrd", []string{"initrd=initrd ", "provision.mac=aa:bb:cc:dd:ee:22 "}},
		{"http://b", mac2, "", []string{"provision.mac=aa:bb:cc:dd:ee:22 "}},
	} {
		b, err := h.Cmdline([]byte("kernel "), c.server, c.mac, c.initrd)
		line, ok := strings.CutPrefix(string(b), "kernel ")
		if err != nil || !ok || strings.HasPrefix(line, "initrd=") != (c.initrd != "") {
			t.Fatalf("%+v: %q, %v", c, b, err)
		}
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("%+v: %q lacks %q", c, line, w)
			}
		}
	}
}
