package registry

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/seal"
	"github.com/provision/provision/inventory"
)

// openDiscovery is openTest with a clock that ticks a second at each
// reading, so that every report is later than the one before.
func openDiscovery(t testing.TB) (*Registry, string) {
	t.Helper()
	r, path := openTest(t)
	tick(r)
	return r, path
}

func tick(r *Registry) {
	var mu sync.Mutex
	clock := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
}

// machineInv is a generated inventory: boot MAC 52:54:00:00:HI:LO, a
// second NIC, serial, two disks, cabled to tor-a12's port Ethernet1/port.
func machineInv(i int, serial string, port int) inventory.Inventory {
	mac := fmt.Sprintf("52:54:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
	mac2 := fmt.Sprintf("52:54:01:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff)
	return inventory.Inventory{
		MAC: mac, BootMode: inventory.BootUEFI,
		DMI: inventory.DMI{Vendor: "QEMU", Product: "Standard PC", Serial: serial, UUID: fmt.Sprintf("uuid-%d", i)},
		CPU: inventory.CPU{Model: "qemu64", Sockets: 1, Cores: 2, Threads: 2}, MemoryMiB: 2048,
		Disks: []inventory.Disk{
			{Name: "vda", Path: "/dev/vda", Serial: fmt.Sprintf("D%d-1", i), SizeBytes: 8 << 30, Rotational: true},
			{Name: "vdb", Path: "/dev/vdb", Serial: fmt.Sprintf("D%d-2", i), SizeBytes: 2 << 30},
		},
		NICs: []inventory.NIC{
			{Name: "eth0", MAC: mac, Driver: "virtio_net", Link: true, SpeedMbs: 1000,
				LLDP: &inventory.LLDP{ChassisID: "52:54:00:ff:ff:ff", SwitchName: "tor-a12", PortID: fmt.Sprintf("Ethernet1/%d", port)}},
			{Name: "eth1", MAC: mac2, Driver: "virtio_net"},
		},
		BMC: &inventory.BMCLAN{Channel: 1, IP: fmt.Sprintf("10.0.9.%d", i%250+1), MAC: "52:54:00:aa:00:01"},
	}
}

func report(t testing.TB, r *Registry, inv inventory.Inventory) *Machine {
	t.Helper()
	m, err := r.ReportInventory(context.Background(), inv, "lan", "10.0.0.201")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReportInventory(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	inv := machineInv(1, "S1", 7)
	inv.DMI.Product = "Evil\x1b[2JPC\n"
	inv.MAC = strings.ToUpper(inv.MAC)
	m := report(t, r, inv)
	if m.State != MachineDiscovered || m.MAC != "52:54:00:00:00:01" || m.Serial != "S1" || m.Subnet != "lan" {
		t.Fatalf("reported: %+v", m)
	}
	got, err := r.Machine(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Inventory.DMI.Product != "Evil[2JPC" || got.FirstSeen.IsZero() || got.Inventory.Neighbour().PortID != "Ethernet1/7" {
		t.Errorf("stored: product %q first seen %v", got.Inventory.DMI.Product, got.FirstSeen)
	}
	first := got.FirstSeen
	report(t, r, machineInv(1, "S1", 7))
	if got, _ := r.Machine(ctx, "52-54-00-00-00-01"); !got.FirstSeen.Equal(first) || !got.Updated.After(first) {
		t.Errorf("a second report: first seen %v (was %v), updated %v", got.FirstSeen, first, got.Updated)
	}
	if _, err := r.Machine(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown serial: %v", err)
	}
	if _, err := r.ReportInventory(ctx, inventory.Inventory{MAC: "not-a-mac"}, "lan", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("a report without a MAC: %v", err)
	}
}

func TestMachineSharedSerial(t *testing.T) {
	r, _ := openDiscovery(t)
	report(t, r, machineInv(1, "SAME", 7))
	report(t, r, machineInv(2, "SAME", 8))
	_, err := r.Machine(context.Background(), "SAME")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "52:54:00:00:00:01 and 52:54:00:00:00:02") {
		t.Fatalf("a shared serial: %v", err)
	}
}

func TestMachinesPagedAndPruned(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	r.store.(*SQLStore).SetMachineCap(3)
	report(t, r, machineInv(100, "R", 1))
	if _, err := r.AcceptMachine(ctx, "R", Accept{Name: "kept", Profile: "web"}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		report(t, r, machineInv(i, fmt.Sprintf("S%d", i), i))
	}
	var macs []string
	after := ""
	for {
		page, next, err := r.Machines(ctx, "", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			macs = append(macs, m.MAC[len(m.MAC)-2:]+"/"+m.State)
		}
		if next == "" {
			break
		}
		after = next
	}
	want := []string{"05/discovered", "04/discovered", "03/discovered", "64/registered"}
	if !slices.Equal(macs, want) {
		t.Errorf("machines = %v, want %v (the oldest discovered pruned, the registered kept)", macs, want)
	}
	disc, _, err := r.Machines(ctx, MachineDiscovered, "", 10)
	if err != nil || len(disc) != 3 {
		t.Errorf("discovered: %d, %v", len(disc), err)
	}
}

func TestAcceptMachine(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := WithActor(context.Background(), Actor{Name: "alice"})
	if _, err := r.AddSystem(ctx, sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	report(t, r, machineInv(1, "S1", 7))
	report(t, r, machineInv(2, "S2", 8))
	got, err := r.AcceptMachine(ctx, "S1", Accept{Name: "a12-7", Profile: "web", IP: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	// .0 network, .1 gateway, .2 web002: .3 is the lowest free.
	if got.IP != "10.0.0.3" || !slices.Equal(got.MACs, []string{"52:54:00:00:00:01", "52:54:01:00:00:01"}) {
		t.Errorf("accepted: ip %s macs %v", got.IP, got.MACs)
	}
	m, _ := r.Machine(ctx, "S1")
	if m.State != MachineRegistered || m.System != "a12-7" || len(m.Inventory.Disks) != 2 {
		t.Errorf("machine after accept: %+v", m)
	}
	h, _ := r.History(ctx, "a12-7", 5)
	if len(h) == 0 || h[len(h)-1].Op != "add" || !strings.Contains(h[len(h)-1].Note, "accepted from discovery (by alice)") {
		t.Errorf("history: %+v", h)
	}
	if _, err := r.AcceptMachine(ctx, "S1", Accept{Name: "again", Profile: "web"}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "a12-7") {
		t.Errorf("accepting it twice: %v", err)
	}
	for _, tc := range []struct {
		a    Accept
		name string // the other object the conflict names
	}{
		{Accept{Name: "a12-7", Profile: "web"}, "a12-7"},
		{Accept{Name: "other", Profile: "web", IP: "10.0.0.2"}, "web002"},
		{Accept{Name: "other", Profile: "web", IP: "10.0.0.210"}, "pool"},
	} {
		_, err := r.AcceptMachine(ctx, "S2", tc.a)
		if err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("accept %+v: %v, want an error naming %s", tc.a, err, tc.name)
		}
	}
	if m, _ := r.Machine(ctx, "S2"); m.State != MachineDiscovered {
		t.Errorf("a refused accept changed the machine: %+v", m)
	}
	renamed := got.Clone()
	renamed.Name, renamed.Hostname = "a12-7b", ""
	if _, err := r.EditSystem(ctx, "a12-7", renamed); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Machine(ctx, "S1"); m.System != "a12-7b" {
		t.Errorf("the machine of a renamed system: %q", m.System)
	}
	if err := r.RemoveSystem(ctx, "a12-7b"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Machine(ctx, "S1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the machine of a removed system: %v", err)
	}
}

func TestAcceptReinstall(t *testing.T) {
	r, _, _ := openLifecycle(t)
	tick(r)
	ctx := context.Background()
	report(t, r, machineInv(1, "S1", 7))
	report(t, r, machineInv(2, "S2", 8))
	keep, err := r.AcceptMachine(ctx, "S1", Accept{Name: "keep", Profile: "inst"})
	if err != nil {
		t.Fatal(err)
	}
	build, err := r.AcceptMachine(ctx, "S2", Accept{Name: "build", Profile: "inst", Reinstall: true})
	if err != nil {
		t.Fatal(err)
	}
	if keep.Status != StateInstalled || keep.Netboot || keep.BuildToken != "" {
		t.Errorf("accepted without reinstall: %s netboot %v", keep.Status, keep.Netboot)
	}
	if build.Status != StatePending || !build.Netboot || build.BuildToken == "" {
		t.Errorf("accepted with reinstall: %s netboot %v", build.Status, build.Netboot)
	}
}

func TestFreeIP(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if _, err := r.AddSubnet(ctx, Subnet{Name: "tiny", CIDR: "10.1.0.0/29", Gateway: "10.1.0.1", Pool: "10.1.0.4-10.1.0.6", NextServer: "10.1.0.2"}); err != nil {
		t.Fatal(err)
	}
	if ip, err := r.Snapshot().FreeIP("tiny"); ip != "10.1.0.3" || err != nil {
		t.Fatalf("FreeIP = %s, %v", ip, err)
	}
	if _, err := r.AddSystem(ctx, sys("t1", "aa:bb:cc:dd:ee:09", "10.1.0.3")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Snapshot().FreeIP("tiny"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "subnet tiny: no free address outside the pool") {
		t.Errorf("a full subnet: %v", err)
	}
}

// The appliance's own address (ReserveAddresses) is never handed out by
// ip auto, which knows nothing else of it.
func TestFreeIPSkipsTheAppliance(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if _, err := r.AddSubnet(ctx, Subnet{Name: "lab", CIDR: "10.2.0.0/24", Pool: "10.2.0.200-10.2.0.220"}); err != nil {
		t.Fatal(err)
	}
	inv := machineInv(0x7701, "S77", 7)
	if _, err := r.ReportInventory(ctx, inv, "lab", "10.2.0.200"); err != nil {
		t.Fatal(err)
	}
	r.ReserveAddresses(netip.MustParseAddr("10.2.0.1"))
	s, err := r.AcceptMachine(ctx, inv.MAC, Accept{Name: "m77", Profile: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if s.IP != "10.2.0.2" {
		t.Errorf("ip auto gave %s, want 10.2.0.2: 10.2.0.1 is the appliance's", s.IP)
	}
}

// An enrolment under way (neither enrolled nor failed) keeps the
// password and says nothing: no failure event, no reason.
func TestEnrolmentUnderWay(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if _, err := r.AddSubnet(ctx, Subnet{Name: "lab", CIDR: "10.2.0.0/24", Pool: "10.2.0.200-10.2.0.220"}); err != nil {
		t.Fatal(err)
	}
	inv := machineInv(0x7702, "S78", 8)
	mac := inv.MAC
	if _, err := r.ReportInventory(ctx, inv, "lab", "10.2.0.201"); err != nil {
		t.Fatal(err)
	}
	var events []Event
	r.SetEvents(func(e Event) { events = append(events, e) })
	if err := r.SetMachineBMC(ctx, mac, MachineBMC{Address: "10.2.0.50", User: "provision"}, "pw-under-way"); err != nil {
		t.Fatal(err)
	}
	m, err := r.Machine(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := r.MachineBMCPassword(ctx, mac); pw != "pw-under-way" || m.Reason != "" || len(events) != 0 || m.BMC == nil || m.BMC.Enrolled {
		t.Errorf("under way: password kept %v, reason %q, events %v, bmc %+v", pw == "pw-under-way", m.Reason, events, m.BMC)
	}
}

// TestAcceptEnrolledBMC: the system gets the BMC its agent enrolled,
// and the password is sealed in the database, never in plaintext.
func TestAcceptEnrolledBMC(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	st := openStore(t, path)
	key, err := seal.Create(filepath.Join(t.TempDir(), "key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UseKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tick(r)
	if _, err := r.AddSubnet(ctx, Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddImage(ctx, Image{Name: "centos", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddProfile(ctx, Profile{Name: "web", Image: "centos"}); err != nil {
		t.Fatal(err)
	}
	var events []Event
	r.SetEvents(func(e Event) { events = append(events, e) })
	report(t, r, machineInv(1, "S1", 7))
	const pw = "Enrolled-pw-4711"
	if err := r.SetMachineBMC(ctx, "52:54:00:00:00:01", MachineBMC{Address: "10.0.9.2", User: "provision", Enrolled: true}, pw); err != nil {
		t.Fatal(err)
	}
	if got, err := r.MachineBMCPassword(ctx, "52:54:00:00:00:01"); got != pw || err != nil {
		t.Fatalf("MachineBMCPassword = %q, %v", got, err)
	}
	got, err := r.AcceptMachine(ctx, "S1", Accept{Name: "a12-7", Profile: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if got.BMC == nil || got.BMC.Address != "10.0.9.2" || got.BMC.User != "provision" || got.BMC.Password != pw {
		t.Fatalf("the system's bmc: %+v", got.BMC)
	}
	st.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	if storedPlain(t, path, pw) || machinePlain(t, st, pw) {
		t.Error("the enrolled password is stored in plaintext")
	}
	h, _ := r.History(ctx, "a12-7", 5)
	for _, c := range h {
		if strings.Contains(c.New+c.Note, pw) {
			t.Errorf("history holds the password: %+v", c)
		}
	}
	kinds := []string{}
	for _, e := range events {
		kinds = append(kinds, e.Kind+" "+e.System)
	}
	if want := []string{"discovered 52:54:00:00:00:01", "bmc-enrolled 52:54:00:00:00:01"}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if err := r.SetMachineBMC(ctx, "52:54:00:00:00:01", MachineBMC{Error: "user slot 3: \x07refused"}, ""); err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Machine(ctx, "S1"); m.BMC.Enrolled || m.Reason != "bmc enrolment failed: user slot 3: refused" {
		t.Errorf("a failed enrolment: %+v %q", m.BMC, m.Reason)
	}
}

func machinePlain(t *testing.T, st *SQLStore, secret string) bool {
	var n int
	if err := st.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM machines WHERE bmc_password = ? OR bmc LIKE '%' || ? || '%'`, secret, secret).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// BenchmarkAcceptByRule reports 1,000 discovered machines with generated
// inventories and has one rule accept each (ApplyRules: match, name,
// auto IP, the system added): ns/machine, and how many bytes the
// SQLite file (on PostgreSQL, the machines table) grows per stored
// inventory (inventory-bytes).
func BenchmarkAcceptByRule(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		r, path := openTest(b)
		tick(r)
		if _, err := r.AddSubnet(ctx, Subnet{Name: "rack", CIDR: "10.8.0.0/20", Gateway: "10.8.0.1", Pool: "10.8.15.0-10.8.15.250"}); err != nil {
			b.Fatal(err)
		}
		rule := torRule
		rule.Subnet, rule.Hostname = "rack", "a12-{{ .LLDP.PortNumber }}-{{ .MACSuffix }}"
		if err := r.AddRule(ctx, rule); err != nil {
			b.Fatal(err)
		}
		st := r.store.(*SQLStore)
		checkpoint := func() int64 {
			if st.db.pg { // the machines table and its indexes
				var n int64
				if err := st.db.QueryRowContext(ctx, `SELECT pg_total_relation_size('machines')`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n
			}
			st.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			return fi.Size()
		}
		before := checkpoint()
		for i := range n {
			if _, err := r.ReportInventory(ctx, machineInv(i+1, fmt.Sprintf("S%d", i), i%48+1), "rack", "10.8.15.1"); err != nil {
				b.Fatal(err)
			}
		}
		grown := checkpoint() - before
		b.StartTimer()
		for i := range n {
			out, err := r.ApplyRules(ctx, machineInv(i+1, "", 0).MAC)
			if err != nil || out.System == "" {
				b.Fatalf("machine %d: %+v, %v", i, out, err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(grown)/n, "inventory-bytes")
		r.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/machine")
}

// TestMachinePasswordSealedAtFirstKey: an enrolled password stored
// before the store had a key is sealed when it gets one.
func TestMachinePasswordSealedAtFirstKey(t *testing.T) {
	ctx := context.Background()
	r, path := openDiscovery(t)
	report(t, r, machineInv(1, "S1", 7))
	const pw = "Before-the-key-99"
	if err := r.SetMachineBMC(ctx, "52:54:00:00:00:01", MachineBMC{Address: "10.0.9.2", User: "provision", Enrolled: true}, pw); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !storedPlain(t, path, pw) && !machinePlain(t, openStore(t, path), pw) {
		t.Fatal("the test needs a plaintext password to start from")
	}
	key, _ := seal.Create(filepath.Join(t.TempDir(), "key"))
	st := openStore(t, path)
	if err := st.UseKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if storedPlain(t, path, pw) || machinePlain(t, st, pw) {
		t.Error("the password is still stored in plaintext")
	}
	if got, err := st.machineBMCPassword(ctx, "52:54:00:00:00:01"); got != pw || err != nil {
		t.Errorf("read back: %q, %v", got, err)
	}
}
