package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/provision/provision/inventory"
)

// TestInspect: an inspection asked survives a restart, its report's
// changes (a third disk) go in the system's history, and it ends.
func TestInspect(t *testing.T) {
	r, path := openDiscovery(t)
	ctx := context.Background()
	inv := machineInv(1, "S1", 7)
	report(t, r, inv)
	if _, err := r.AcceptMachine(ctx, "S1", Accept{Name: "a12-7", Profile: "web"}); err != nil {
		t.Fatal(err)
	}
	token, err := r.StartInspect(ctx, "a12-7")
	if err != nil || token == "" {
		t.Fatalf("StartInspect: %v", err)
	}
	if _, err := r.StartInspect(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("inspecting no system: %v", err)
	}
	sys, _ := r.Snapshot().SystemByName("a12-7")
	if sys.InspectToken != token {
		t.Error("the system does not carry its inspection's token")
	}
	edited := sys.Clone()
	edited.KernelArgs = "quiet"
	if _, err := r.EditSystem(ctx, "a12-7", edited); err != nil {
		t.Fatal(err)
	}
	for _, c := range mustHistory(t, r, "a12-7") {
		if strings.Contains(c.New+c.Old+c.Note, string(token)) {
			t.Fatalf("history holds the token: %+v", c)
		}
	}
	r.Close()
	r = reopen(t, path)
	tick(r)
	if s, ok := r.Snapshot().SystemByInspectToken(string(token)); !ok || s.Name != "a12-7" {
		t.Fatal("the inspection did not survive an edit and a restart")
	}

	inv.Disks = append(inv.Disks, inventory.Disk{Name: "vdc", Path: "/dev/vdc", Serial: "S3", SizeBytes: 2 << 30})
	m, diff, err := r.FinishInspect(ctx, string(token), inv, "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) != 1 || diff[0] != "disk vdc added: serial S3, 2 GiB" || len(m.Inventory.Disks) != 3 || m.System != "a12-7" {
		t.Fatalf("FinishInspect: %v %+v", diff, m)
	}
	var noted bool
	for _, c := range mustHistory(t, r, "a12-7") {
		noted = noted || c.Op == "inspect" && c.Kind == ObjSystem && c.Note == "disk vdc added: serial S3, 2 GiB"
	}
	if !noted {
		t.Errorf("no inspect record in history: %+v", mustHistory(t, r, "a12-7"))
	}
	if _, ok := r.Snapshot().SystemByInspectToken(string(token)); ok {
		t.Error("the inspection did not end")
	}
	if _, _, err := r.FinishInspect(ctx, string(token), inv, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("a finished inspection's token again: %v", err)
	}
	// A report from the system's machine outside an inspection records
	// its changes too.
	inv.NICs[0].LLDP = &inventory.LLDP{SwitchName: "tor-a12", PortID: "Ethernet1/9"}
	if _, err := r.ReportInventory(ctx, inv, "lan", "10.0.0.2"); err != nil {
		t.Fatal(err)
	}
	h := mustHistory(t, r, "a12-7")
	if last := h[len(h)-1]; last.Op != "inspect" || last.Note != "nic 52:54:00:00:00:01 lldp port Ethernet1/7 -> Ethernet1/9" {
		t.Errorf("the moved cable: %+v", last)
	}
}

func mustHistory(t *testing.T, r *Registry, name string) []Change {
	t.Helper()
	h, err := r.History(context.Background(), name, 50)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
