package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/bind"
	"github.com/provision/provision/images"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// The report shows the kernel command line that the iPXE script (but for
// its initrd=initrd) and the pxelinux and GRUB configs carry, with a
// placeholder for a build's token, which the API never shows.
func TestReportShowsTheCmdline(t *testing.T) {
	const boot = "http://10.0.0.1:8080"
	reg := registrytest.Seeded(t)
	ctx := context.Background()
	registrytest.Must(t,
		func() error {
			_, err := reg.AddProfile(ctx, registry.Profile{Name: "inst", Image: "img", Kickstart: "debian12-preseed", KernelArgs: "console=ttyS1"})
			return err
		},
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "inst01", MACs: []string{"aa:bb:cc:dd:ee:02"}, IP: "10.0.0.12", Profile: "inst", Netboot: true})
			return err
		},
	)
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: reg, Auth: Tokens("tok", ""), BootURL: boot,
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	t.Cleanup(srv.Close)
	ipxe := bind.NewBoot(reg, "")
	tftp := bind.Boot{Reg: reg, BaseURL: boot}
	for _, tt := range []struct{ system, ip, mac, boot string }{
		{"web001", "10.0.0.11", "aa:bb:cc:dd:ee:01", "netboot"},
		{"inst01", "10.0.0.12", "aa:bb:cc:dd:ee:02", "netboot: the installer of its preseed template"},
	} {
		t.Run(tt.system, func(t *testing.T) {
			code, body := call(t, "GET", srv.URL+"/api/v1/systems/"+tt.system+"/report", "tok", "")
			var rep Report
			if err := json.Unmarshal([]byte(body), &rep); code != 200 || err != nil {
				t.Fatalf("%d %s: %v", code, body, err)
			}
			if rep.Boot != tt.boot || rep.CmdlineError != "" || !strings.HasSuffix(rep.Cmdline, " provision.host="+tt.system+" provision.zone=dsas provision.server="+boot) {
				t.Fatalf("report: boot %q, cmdline %q (%s)", rep.Boot, rep.Cmdline, rep.CmdlineError)
			}
			sys, _ := reg.Snapshot().SystemByName(tt.system)
			want := rep.Cmdline
			if tok := string(sys.BuildToken); tok != "" {
				if strings.Contains(body, tok) {
					t.Errorf("the report shows the build token:\n%s", body)
				}
				want = strings.ReplaceAll(want, RenderPlaceholderToken, tok)
			}
			h, _ := ipxe.HostByIP(netip.MustParseAddr(tt.ip))
			files, _ := ipxe.ImageFiles(h.Image)
			script, err := images.Script(h, boot, files)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(script), "/kernel initrd=initrd "+want+" || goto failed\n") {
				t.Errorf("the iPXE script does not carry %q:\n%s", want, script)
			}
			mac, _ := net.ParseMAC(tt.mac)
			if c, _ := tftp.BootConfigByMAC(mac, netip.MustParseAddr(tt.ip)); c.Args != want || c.Err != nil {
				t.Errorf("pxelinux and GRUB: %q, %v\nreport: %q", c.Args, c.Err, want)
			}
		})
	}
}
