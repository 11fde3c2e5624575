package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var torRule = Rule{Name: "tor-a12", Priority: 10, Match: `lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/([0-9]+)"`,
	Hostname: "a12-{{ .LLDP.PortNumber }}", Profile: "web", IP: "auto"}

func TestRuleValidation(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if err := r.AddRule(ctx, torRule); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*Rule)) Rule { x := torRule; x.Name = "other"; f(&x); return x }
	for _, tc := range []struct {
		name string
		x    Rule
		want string
	}{
		{"taken", torRule, "rule tor-a12 already exists"},
		{"name", with(func(x *Rule) { x.Name = "bad name" }), `rule name "bad name"`},
		{"typo", with(func(x *Rule) { x.Match = `lldp.swich == "x"` }), "swich"},
		{"not bool", with(func(x *Rule) { x.Match = `lldp.port` }), "bool"},
		{"long", with(func(x *Rule) { x.Match = strings.Repeat("true && ", 600) + "true" }), "limit is 4096"},
		{"template", with(func(x *Rule) { x.Hostname = "{{ .LLDP.Nope }}" }), "Nope"},
		{"profile", with(func(x *Rule) { x.Profile = "gone" }), `profile "gone" does not exist`},
		{"ip", with(func(x *Rule) { x.IP = "10.0.0.5" }), `ip "10.0.0.5"`},
		{"subnet", with(func(x *Rule) { x.Subnet = "gone" }), `subnet "gone" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.AddRule(ctx, tc.x)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddRule: %v, want an error with %q", err, tc.want)
			}
		})
	}
	if err := r.RemoveProfile(ctx, "web"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "rule tor-a12") {
		t.Errorf("removing a profile a rule names: %v", err)
	}
	x := torRule
	x.Subnet = "lan"
	if err := r.EditRule(ctx, "tor-a12", x); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveSubnet(ctx, "lan"); !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "rule tor-a12") {
		t.Errorf("removing a subnet a rule names: %v", err)
	}
	if err := r.RemoveRule(ctx, "tor-a12"); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveProfile(ctx, "db"); err != nil {
		t.Errorf("a profile no rule names: %v", err)
	}
}

func TestApplyRules(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	var events []Event
	r.SetEvents(func(e Event) { events = append(events, e) })
	// A catch-all rule tried after tor-a12, and one for another product
	// tried before it.
	rules := []Rule{
		torRule,
		{Name: "catch-all", Priority: 100, Match: "true", Hostname: "n{{ .MACSuffix }}", Profile: "db"},
		{Name: "r750", Priority: 1, Match: `dmi.product == "PowerEdge R750"`, Hostname: "r750-{{ lower .DMI.Serial }}", Profile: "db"},
	}
	for _, x := range rules {
		if err := r.AddRule(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if names := ruleNames(r.Snapshot().Rules()); names != "r750 tor-a12 catch-all" {
		t.Fatalf("rules in order: %s", names)
	}
	report(t, r, machineInv(1, "S1", 7))
	if x, ok := r.Snapshot().MatchRule(machineInv(1, "S1", 7)); !ok || x.Name != "tor-a12" {
		t.Errorf("MatchRule = %v, %v", x, ok)
	}
	out, err := r.ApplyRules(ctx, "52:54:00:00:00:01")
	if err != nil {
		t.Fatal(err)
	}
	if out.Rule != "tor-a12" || out.System != "a12-7" || out.IP != "10.0.0.2" || out.Reason != "" {
		t.Fatalf("first machine: %+v", out)
	}
	h, _ := r.History(ctx, "a12-7", 5)
	if len(h) == 0 || !strings.Contains(h[len(h)-1].Note, "accepted from discovery (rule tor-a12)") {
		t.Errorf("history: %+v", h)
	}

	// The second VM: the same serial, another MAC, the same switch port:
	// the name the rule makes is the first one's.
	second := machineInv(2, "S1", 7)
	report(t, r, second)
	test, err := r.TestRule(ctx, "tor-a12", second.MAC)
	if err != nil || test.Name != "a12-7" || !strings.Contains(test.Reason, "a12-7") {
		t.Errorf("rule test: %+v, %v", test, err)
	}
	out, err = r.ApplyRules(ctx, second.MAC)
	if err != nil {
		t.Fatal(err)
	}
	if out.System != "" || out.Rule != "tor-a12" || !strings.HasPrefix(out.Reason, "rule tor-a12: ") || !strings.Contains(out.Reason, "system a12-7") {
		t.Fatalf("the second machine: %+v", out)
	}
	t.Logf("the second machine's reason: %s", out.Reason)
	m, err := r.Machine(ctx, second.MAC)
	if err != nil || m.State != MachineDiscovered || m.Reason != out.Reason || m.Rule != "tor-a12" {
		t.Fatalf("the second machine stays discovered with the reason: %+v, %v", m, err)
	}
	if e := events[len(events)-1]; e.Kind != EventRuleConflict || e.System != second.MAC || e.Detail != out.Reason {
		t.Errorf("the conflict's event: %+v", e)
	}

	// Another switch: tor-a12 does not match, the catch-all does.
	third := machineInv(3, "S3", 9)
	third.NICs[0].LLDP.SwitchName = "tor-b01"
	report(t, r, third)
	if out, _ := r.ApplyRules(ctx, third.MAC); out.Rule != "catch-all" || out.System != "n000003" {
		t.Errorf("the catch-all: %+v", out)
	}
	if out, _ := r.TestRule(ctx, "r750", second.MAC); out.Rule != "" || out.Reason != "no rule matched" {
		t.Errorf("a rule that does not match, tested: %+v", out)
	}
	// The rule gone, the second machine's conflict is no longer its
	// reason; a failed enrolment's stays.
	if err := r.RemoveRule(ctx, "catch-all"); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveRule(ctx, "tor-a12"); err != nil {
		t.Fatal(err)
	}
	if out, _ := r.ApplyRules(ctx, second.MAC); out.Reason != "no rule matched" {
		t.Errorf("no rule: %+v", out)
	}
	if m, _ := r.Machine(ctx, second.MAC); m.Reason != "" {
		t.Errorf("the reason left: %q", m.Reason)
	}
	if err := r.SetMachineBMC(ctx, second.MAC, MachineBMC{Error: "refused"}, ""); err != nil {
		t.Fatal(err)
	}
	r.ApplyRules(ctx, second.MAC)
	if m, _ := r.Machine(ctx, second.MAC); m.Reason != "bmc enrolment failed: refused" {
		t.Errorf("the enrolment's reason: %q", m.Reason)
	}
}

// TestApplyRulesEvalError: a rule whose evaluation fails is skipped, and
// named when nothing else matches.
func TestApplyRulesEvalError(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if err := r.AddRule(ctx, Rule{Name: "first-disk", Match: `disks[5].size_bytes > 0`, Hostname: "x", Profile: "web"}); err != nil {
		t.Fatal(err)
	}
	report(t, r, machineInv(1, "S1", 7))
	out, err := r.ApplyRules(ctx, "S1")
	if err != nil || out.System != "" || !strings.Contains(out.Reason, "no rule matched; rule first-disk: ") {
		t.Errorf("ApplyRules: %+v, %v", out, err)
	}
}

func ruleNames(rules []*Rule) string {
	var s []string
	for _, x := range rules {
		s = append(s, x.Name)
	}
	return strings.Join(s, " ")
}

// TestRulesAndMachinesCarried: rules go through export and import;
// rules, machines and inspections through a backup.
func TestRulesAndMachinesCarried(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	if err := r.AddRule(ctx, torRule); err != nil {
		t.Fatal(err)
	}
	report(t, r, machineInv(1, "S1", 7))
	report(t, r, machineInv(2, "S2", 8))
	if _, err := r.ApplyRules(ctx, "S1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.StartInspect(ctx, "a12-7"); err != nil {
		t.Fatal(err)
	}
	doc, err := r.Snapshot().Export(false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "rules:\n  - name: tor-a12\n") {
		t.Fatalf("export:\n%s", doc)
	}
	r2, _ := openTest(t)
	if _, err := r2.Import(ctx, doc, false); err != nil {
		t.Fatal(err)
	}
	if x, ok := r2.Snapshot().Rule("tor-a12"); !ok || *x != torRule {
		t.Errorf("imported rule: %+v", x)
	}
	rep, err := r2.Import(ctx, doc, true)
	if err != nil || len(rep.Added)+len(rep.Changed) != 0 {
		t.Errorf("importing again: %+v, %v", rep, err)
	}

	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := r.store.(*SQLStore).CopyTo(ctx, backup); err != nil {
		t.Fatal(err)
	}
	st, err := OpenSQLite(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := Open(ctx, st, "dsas")
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	if _, ok := r3.Snapshot().Rule("tor-a12"); !ok {
		t.Error("the backup has no rule")
	}
	sys, _ := r3.Snapshot().SystemByName("a12-7")
	if sys == nil || sys.InspectToken == "" {
		t.Errorf("the backup's system lost its inspection: %+v", sys)
	}
	all, _, err := r3.Machines(ctx, "", "", 10)
	if err != nil || len(all) != 2 || all[0].System != "" || all[1].System != "a12-7" {
		t.Errorf("the backup's machines: %+v, %v", all, err)
	}
	os.Remove(backup)
}

func TestSubnetDiscovery(t *testing.T) {
	r, _ := openDiscovery(t)
	ctx := context.Background()
	sub, _ := r.Snapshot().Subnet("lan")
	on := *sub
	on.Discovery, on.EnrolBMC = true, true
	if got, err := r.EditSubnet(ctx, "lan", on); err != nil || !got.Discovery || !got.EnrolBMC {
		t.Fatalf("discovery on: %+v, %v", got, err)
	}
	_, err := r.AddSubnet(ctx, Subnet{Name: "nopool", CIDR: "10.2.0.0/24", Discovery: true})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "subnet nopool: discovery needs a pool") {
		t.Errorf("discovery without a pool: %v", err)
	}
}
