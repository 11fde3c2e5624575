package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestConcurrentSameIP(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.AddSystem(ctx, sys(fmt.Sprintf("n%02d", i), fmt.Sprintf("02:00:00:00:00:%02x", i), "10.0.0.50"))
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrConflict) {
				t.Errorf("unexpected error kind: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d adds succeeded, want exactly 1", ok)
	}
}

// Two registries on one database do not see each other's snapshot; the
// database's constraints must still refuse the second duplicate.
func TestDatabaseEnforcesUniqueness(t *testing.T) {
	r1, path := openTest(t)
	r2 := reopen(t, path)
	ctx := context.Background()
	if _, err := r1.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, s := range []System{
		sys("web002", "aa:bb:cc:dd:ee:02", "10.0.0.11"),
		sys("web003", "aa:bb:cc:dd:ee:01", "10.0.0.13"),
		sys("web001", "aa:bb:cc:dd:ee:04", "10.0.0.14"),
	} {
		if _, err := r2.AddSystem(ctx, s); !errors.Is(err, ErrConflict) {
			t.Errorf("%s: got %v, want a conflict from the database", s.Name, err)
		}
	}
}

func TestSettings(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	if _, err := r.SetSetting(ctx, "LVS.vrid", "100"); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Snapshot().Setting("lvs.vrid"); v != "100" {
		t.Fatalf("got %q", v)
	}
	if _, err := r.SetSetting(ctx, "lvs.vrid", "101"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a..b", "-a", "a b", "x._host.y", strings.Repeat("a", 64)} {
		if _, err := r.SetSetting(ctx, bad, "1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("key %q: got %v", bad, err)
		}
	}
	if _, err := r.SetSetting(ctx, "big", strings.Repeat("x", MaxValueLen+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized value: %v", err)
	}
	if err := r.UnsetSetting(ctx, "LVS.VRID"); err != nil {
		t.Fatal(err)
	}
	if err := r.UnsetSetting(ctx, "lvs.vrid"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unset twice: %v", err)
	}
}

func TestSubnetRules(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sub  Subnet
		want string
	}{
		{Subnet{Name: "x", CIDR: "10.0.0.0/16"}, "subnet x (10.0.0.0/16) overlaps subnet lan (10.0.0.0/24)"},
		{Subnet{Name: "x", CIDR: "10.1.0.5/24"}, "has host bits set; did you mean 10.1.0.0/24?"},
		{Subnet{Name: "x", CIDR: "10.1.0.0/24", Gateway: "10.2.0.1"}, "gateway 10.2.0.1 must be a host address inside 10.1.0.0/24"},
		{Subnet{Name: "x", CIDR: "10.1.0.0/24", Pool: "10.1.0.50-10.1.0.10"}, "ends before it starts"},
		{Subnet{Name: "x", CIDR: "10.1.0.0/24", Gateway: "10.1.0.20", Pool: "10.1.0.10-10.1.0.50"}, "gateway 10.1.0.20 lies inside the pool"},
		{Subnet{Name: "lan", CIDR: "10.1.0.0/24"}, "subnet lan already exists"},
		{Subnet{Name: "x", CIDR: "nope"}, "is not an IPv4 prefix"},
	} {
		if _, err := r.AddSubnet(ctx, c.sub); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.sub, err, c.want)
		}
	}
}

func TestHistoryMasksSecrets(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	s := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	s.BMC = &BMC{Address: "10.0.1.11", Password: "hunter2-secret"}
	if _, err := r.AddSystem(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.BMC.Password = "other-secret"
	s.Name = "web009"
	if _, err := r.EditSystem(ctx, "web001", s); err != nil {
		t.Fatal(err)
	}
	h, err := r.History(ctx, "web001", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Op != "add" || h[1].Op != "rename" || h[1].Note != "bmc password changed" {
		t.Fatalf("history: %+v", h)
	}
	if h2, _ := r.History(ctx, "web009", 100); len(h2) != 2 || h2[0].Op != "add" {
		t.Fatalf("history under the new name must follow the rename back: %+v", h2)
	}
	for _, c := range h {
		if strings.Contains(fmt.Sprintf("%v %+v %#v", c, c, c), "secret") {
			t.Fatalf("secret in history: %+v", c)
		}
	}
	if got := fmt.Sprintf("%v %+v", *s.BMC, s.BMC); strings.Contains(got, "secret") {
		t.Fatalf("fmt prints the password: %s", got)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	s := sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")
	s.Settings = map[string]string{"mysql.server_id": "11"}
	s.BMC = &BMC{Address: "10.0.1.11", User: "admin", Password: "pw-secret"}
	if _, err := r.AddSystem(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetSetting(ctx, "net.private", "192.168.0.0/20"); err != nil {
		t.Fatal(err)
	}
	out, err := r.Snapshot().Export(false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "pw-secret") {
		t.Fatal("export without secrets has the password")
	}
	withSecrets, _ := r.Snapshot().Export(true)
	if !strings.Contains(string(withSecrets), "pw-secret") {
		t.Fatal("export with secrets lacks the password")
	}
	fresh := reopen(t, t.TempDir()+"/fresh.db")
	if _, err := fresh.Import(ctx, out, true); err != nil {
		t.Fatal(err)
	}
	if n := len(fresh.Snapshot().Systems()); n != 0 {
		t.Fatalf("dry run wrote %d systems", n)
	}
	rep, err := fresh.Import(ctx, out, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 6 {
		t.Fatalf("added %v", rep.Added)
	}
	again, _ := fresh.Snapshot().Export(false)
	if string(again) != string(out) {
		t.Fatalf("export differs after import:\n%s\n---\n%s", out, again)
	}
	rep, err = fresh.Import(ctx, out, false)
	if err != nil || rep.Unchanged != 6 || len(rep.Added)+len(rep.Changed) != 0 {
		t.Fatalf("re-import: %+v %v", rep, err)
	}
}

func TestImportReportsEveryConflict(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	doc := `
systems:
  - {name: a1, macs: ["aa:bb:cc:dd:ee:01"], ip: 10.0.0.11, profile: web}
  - {name: a2, macs: ["AA-BB-CC-DD-EE-01"], ip: 10.0.0.12, profile: web}
  - {name: a3, macs: ["aa:bb:cc:dd:ee:03"], ip: 10.0.0.11, profile: web}
  - {name: a4, macs: ["aa:bb:cc:dd:ee:04"], ip: 10.0.0.1, profile: web}
`
	_, err := r.Import(ctx, []byte(doc), false)
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	if n := len(r.Snapshot().Systems()); n != 0 {
		t.Fatalf("a failed import wrote %d systems", n)
	}
	if _, err := r.Import(ctx, []byte("systems: [{name: x, bogus: 1}]"), false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestEditSubnet(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	if _, err := r.AddSystem(ctx, sys("web001", "aa:bb:cc:dd:ee:01", "10.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sub  Subnet
		want string
	}{
		{Subnet{Name: "lan", CIDR: "10.0.0.0/24", Pool: "10.0.0.10-10.0.0.20"}, "ip 10.0.0.11 of system web001 would be inside the dynamic pool"},
		{Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.11"}, "ip 10.0.0.11 of system web001 would be the gateway"},
		{Subnet{Name: "lan", CIDR: "10.0.0.8/30"}, "ip 10.0.0.11 of system web001 would be the broadcast address"},
		{Subnet{Name: "lan", CIDR: "10.0.1.0/24"}, "subnet lan is in use by system web001"},
	} {
		if _, err := r.EditSubnet(ctx, "lan", c.sub); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.sub, err, c.want)
		}
	}
	got, err := r.EditSubnet(ctx, "lan", Subnet{Name: "lan0", CIDR: "10.0.0.0/23", Gateway: "10.0.0.1", Pool: "10.0.1.100-10.0.1.200"})
	if err != nil || got.Name != "lan0" {
		t.Fatalf("rename and grow: %v %v", got, err)
	}
	if _, ok := r.Snapshot().Subnet("lan"); ok {
		t.Fatal("old name still there")
	}
	if _, err := r.EditSubnet(ctx, "nope", Subnet{Name: "nope", CIDR: "10.9.0.0/24"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("edit of a missing subnet: %v", err)
	}
}

// An edit or a set that changes nothing writes nothing: no serial, no
// history.
func TestNoOpChangesWriteNothing(t *testing.T) {
	ctx := context.Background()
	reg, _ := openTest(t)
	if _, err := reg.SetSetting(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	serial := reg.Snapshot().Serial
	h, _ := reg.History(ctx, "", 100)
	if _, err := reg.EditSubnet(ctx, "lan", Subnet{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Pool: "10.0.0.200-10.0.0.250"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetSetting(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	h2, _ := reg.History(ctx, "", 100)
	if reg.Snapshot().Serial != serial || len(h2) != len(h) {
		t.Fatalf("no-op changes: serial %d -> %d, history %d -> %d", serial, reg.Snapshot().Serial, len(h), len(h2))
	}
	if _, err := reg.SetSetting(ctx, "a", "2"); err != nil || reg.Snapshot().Serial != serial+1 {
		t.Fatalf("a real change: %v, serial %d", err, reg.Snapshot().Serial)
	}
}
