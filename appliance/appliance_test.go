package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/provision/provision/internal/apitoken"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/registry"
)

// devConfig is a dev appliance in a temporary directory, on ports the
// kernel picks.
func devConfig(t *testing.T) Config {
	cfg := Defaults(true)
	cfg.Data = t.TempDir()
	cfg.HTTP, cfg.DNS, cfg.TFTP = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNSForward = []string{"none"}
	return cfg
}

// Open then Run is the whole appliance: a system added through the API
// is in the zone DNS answers and gets its boot script, and cancelling
// Run's context stops every server with no error.
func TestOpenRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, devConfig(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addrs := a.Addrs()
	if addrs.HTTP == "" || addrs.DNS == "" || addrs.TFTP == "" || addrs.API != "" || addrs.DHCP != "" {
		t.Fatalf("Addrs = %+v: want HTTP, DNS and TFTP, no API listener and no DHCP", addrs)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	reg := a.Registry()
	for _, step := range []func() error{
		func() error {
			_, err := reg.AddSubnet(ctx, registry.Subnet{Name: "lan", CIDR: "127.0.0.0/8"})
			return err
		},
		func() error {
			_, err := reg.AddImage(ctx, registry.Image{Name: "img", Files: map[string]registry.File{
				"kernel": {SHA256: strings.Repeat("a", 64)}, "initrd": {SHA256: strings.Repeat("b", 64)}}})
			return err
		},
		func() error { _, err := reg.AddProfile(ctx, registry.Profile{Name: "p", Image: "img"}); return err },
		func() error {
			_, err := reg.AddSystem(ctx, registry.System{Name: "web01", MACs: []string{"52:54:00:00:00:01"}, IP: "127.0.0.1", Profile: "p", Netboot: true})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	m := new(dns.Msg)
	m.SetQuestion("web01.internal.", dns.TypeA)
	var in *dns.Msg
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		in, err = dns.Exchange(m, addrs.DNS)
		if err == nil && len(in.Answer) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(in.Answer) != 1 || !strings.Contains(in.Answer[0].String(), "127.0.0.1") {
		t.Fatalf("DNS web01.internal A: %v, %v", in, err)
	}

	res, err := http.Get("http://" + addrs.HTTP + "/boot.ipxe")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "#!ipxe") || !strings.Contains(string(body), "provision.host=web01") {
		t.Fatalf("GET /boot.ipxe from web01's address: %d\n%s", res.StatusCode, body)
	}

	// The API shares the boot listener in dev mode, behind the admin token.
	token, err := os.ReadFile(filepath.Join(a.cfg.Data, apitoken.FileName(apitoken.Admin)))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addrs.HTTP+"/api/v1/systems/web01", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/systems/web01 with the admin token: %d", res.StatusCode)
	}

	// A boot loader fetched over HTTP (UEFI HTTP boot) is on the timeline
	// of the system at the client's address, with its size.
	loader, err := os.Stat(filepath.Join(a.cfg.BootFiles, "undionly.kpxe"))
	if err != nil {
		testenv.Missing(t, "no undionly.kpxe in the TFTP root (apt-get install ipxe)")
	}
	if res, err = http.Get("http://" + addrs.HTTP + "/undionly.kpxe"); err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || n != loader.Size() {
		t.Fatalf("GET /undionly.kpxe: %d, %d bytes of %d", res.StatusCode, n, loader.Size())
	}
	want := fmt.Sprintf("GET /undionly.kpxe 200 %dB", loader.Size())
	// The event is recorded once the handler returns, which may be just
	// after the client has read the last byte.
	var got []string
	for deadline := time.Now().Add(5 * time.Second); !slices.Contains(got, want) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		evs, err := a.events.Events(ctx, "web01", 50) // every event recorded before the call
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, e := range evs {
			if e.Kind == "loader" {
				got = append(got, e.Detail)
			}
		}
	}
	if !slices.Contains(got, want) {
		t.Errorf("web01's loader events %q, want %q", got, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return 15 s after its context ended")
	}
	if _, err := http.Get("http://" + addrs.HTTP + "/healthz"); err == nil {
		t.Error("the HTTP listener still answers after Run returned")
	}
}

// A listener that cannot open fails Open, names the flag, and leaves
// nothing open: the same data directory opens again at once.
func TestOpenFailsCleanly(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	first := devConfig(t)
	a, err := Open(ctx, first, log)
	if err != nil {
		t.Fatal(err)
	}
	second := devConfig(t)
	second.DNS = a.Addrs().DNS // taken
	if _, err := Open(ctx, second, log); err == nil || !strings.Contains(err.Error(), "--dns") {
		t.Fatalf("Open on a DNS port in use: %v, want an error naming --dns", err)
	}
	a.Close()
	b, err := Open(ctx, first, log)
	if err != nil {
		t.Fatalf("Open again after closing: %v", err)
	}
	b.Close()

	bad := devConfig(t)
	bad.DHCPMode = "relay"
	if _, err := Open(ctx, bad, log); !errors.Is(err, ErrConfig) {
		t.Fatalf("Open with --dhcp-mode relay: %v, want ErrConfig", err)
	}
	bad = devConfig(t)
	bad.TFTPMaxPerClient = 5000
	if _, err := Open(ctx, bad, log); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "tftp max per client 5000") {
		t.Fatalf("Open with 5000 TFTP transfers per client: %v, want ErrConfig", err)
	}
}
