package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/images"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// fakeBMCs is Power for tests: every BMC is on and does what it is told.
type fakeBMCs struct{}

func (fakeBMCs) PowerState(context.Context, ipmi.BMC) (string, error)        { return "on", nil }
func (fakeBMCs) SetPower(context.Context, ipmi.BMC, string) error            { return nil }
func (fakeBMCs) SetBootDevice(context.Context, ipmi.BMC, string, bool) error { return nil }

// tourServer is the API with everything it can be given (events, leases,
// BMCs, backups), over an empty registry but two reported machines, served
// through c.
func tourServer(t *testing.T, c *specChecker) (*httptest.Server, *registry.Registry) {
	t.Helper()
	reg, st := registrytest.OpenStore(t, registrytest.Zone)
	blobs, err := images.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	events := registry.NewEventLog(st, 100)
	go events.Run(t.Context())
	tourMachines(t, reg, st)
	h := Handler(Config{Registry: reg, Blobs: blobs, Events: events, Dynamic: registry.NewDynamicLog(st),
		Auth: Tokens("tok", "ro"), Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry(),
		Login: tourLogin(reg), Console: &fakeConsole{},
		Power: fakeBMCs{}, PowerStates: func(string) string { return "on" }, Builds: &powerLog{}, Inspect: (&powerLog{}).inspect,
		Backup: func(_ context.Context, w io.Writer, _ bool) error { _, err := w.Write([]byte("tar")); return err }})
	srv := httptest.NewServer(c.handler(h))
	t.Cleanup(srv.Close)
	return srv, reg
}

// tourMachines has two machines report a full inventory (one with an
// enrolled BMC), and one unknown machine take a pool lease.
func tourMachines(t *testing.T, reg *registry.Registry, st *registry.SQLStore) {
	ctx := context.Background()
	for _, mac := range []string{"52:54:00:00:00:01", "52:54:00:00:00:02"} {
		inv := inventory.Inventory{MAC: mac, BootMode: inventory.BootUEFI, Agent: "test",
			DMI: inventory.DMI{Vendor: "QEMU", Serial: "S" + mac[16:], UUID: "u-" + mac[16:]},
			CPU: inventory.CPU{Model: "qemu64", Sockets: 1, Cores: 2, Threads: 2}, MemoryMiB: 2048,
			Disks: []inventory.Disk{{Name: "vda", Path: "/dev/vda", SizeBytes: 10 << 30, Rotational: true}},
			NICs: []inventory.NIC{{Name: "eth0", MAC: mac, Driver: "virtio_net", SpeedMbs: 1000, Link: true,
				LLDP: &inventory.LLDP{SwitchName: "sw1", PortID: "ge-0/0/1", VLAN: 10}}},
			PCI:    []inventory.PCI{{Address: "0000:00:03.0", Class: "0x020000", Vendor: "0x1af4", Device: "0x1000", Driver: "virtio-pci"}},
			BMC:    &inventory.BMCLAN{Channel: 1, IP: "10.0.9.1", Source: "static"},
			Errors: []string{"lldp: no frame on eth1"}}
		if _, err := reg.ReportInventory(ctx, inv, "", "10.0.0.201"); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.SetMachineBMC(ctx, "52:54:00:00:00:01", registry.MachineBMC{Address: "10.0.9.1", User: "provision", Enrolled: true}, "pw"); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	seen := []registry.Discovered{{MAC: "02:00:00:00:00:09", IP: "10.0.0.209", Subnet: "lan", Hostname: "stray",
		VendorClass: "PXEClient:Arch:00007", Arch: 7, FirstSeen: at, LastSeen: at}}
	if err := st.SaveDynamic(ctx, nil, seen); err != nil {
		t.Fatal(err)
	}
}

// tourCall sends one request with the admin token and returns the status.
func tourCall(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	switch {
	case strings.HasPrefix(body, "{"):
		req.Header.Set("Content-Type", "application/json")
	case strings.HasPrefix(path, "/api/v1/blobs"):
		req.Header.Set("Content-Type", "application/octet-stream") // as the CLI sends them
	case strings.HasPrefix(path, "/api/v1/import"):
		req.Header.Set("Content-Type", "application/yaml")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every operation of the description, called once with a request that
// succeeds: each answer fits its schema, and none is left out.
func TestOpenAPITour(t *testing.T) {
	c := newSpecChecker(t)
	c.requests = true
	srv, reg := tourServer(t, c)
	sum := sha256.Sum256([]byte("kernel"))
	sha := hex.EncodeToString(sum[:])
	files := `{"kernel":{"sha256":"` + sha + `","size":6},"initrd":{"sha256":"` + sha + `","size":6}}`
	for _, s := range tourSteps(sha, files) {
		if s.before != nil {
			s.before(t, reg)
		}
		if code, body := tourCall(t, srv, s.method, tourPath(s.path, reg), s.body); code != s.status {
			t.Errorf("%s %s: %d %s, want %d", s.method, s.path, code, body, s.status)
		}
	}
	tourStream(t, srv)
	missed := c.missed(operationIDs(loadSpec(t)))
	if len(missed) > 0 {
		t.Errorf("operations no step of TestOpenAPITour called with success: %s (add a step to tourSteps)", strings.Join(missed, ", "))
	}
}

// tourStream reads the head of the events stream, then hangs up.
func tourStream(t *testing.T, srv *httptest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/events/stream?system=web001", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("events stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// operationIDs lists a description's operation ids, sorted.
func operationIDs(doc *openapi3.T) []string {
	var ids []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	slices.Sort(ids)
	return ids
}
