package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// The switch the discovery VMs are cabled to, and its ports.
const (
	discoverySwitch = "tor-a12"
	discoveryMAC    = "52:54:00:d9:00:01" // the first machine's boot NIC, on Ethernet1/7
	discoveryMAC2   = "52:54:00:d9:00:02" // its second NIC, on Ethernet1/8
	twinMAC         = "52:54:00:d9:01:01" // a second machine with the same serial, on Ethernet1/7 of another switch stack
	discoverySerial = "SRV-A12-0007"
)

// discoveryInDeployLab: a rack of one unknown machine registers itself
// (issue 29), in TestVMDeploy's lab and with its disk image. Nobody types
// its MAC or a BMC password: it is powered on once through its BMC
// (OpenIPMI's ipmi_sim, port 623, which also answers it in-band through
// QEMU's KCS device); on subnet lab, with discovery and BMC enrolment on,
// it boots the inventory agent, which reports its DMI serial, two disks
// with serials, two NICs with the LLDP switch and port that Debian's
// lldpd announces, and the BMC's LAN address; the agent creates user
// provision in-band with the appliance's password, the appliance reaches
// the BMC with it over the network, and rule a12 names the machine from
// its port (a12-7), gives it the lowest free address and profile deploy,
// and powers it through the BMC into the deploy: it boots Debian from its
// disk. A second machine with the same serial on the same port stays
// discovered with the conflict. A third disk added and `system inspect`
// put the new disk in the system's history.
func discoveryInDeployLab(t *testing.T, n *lab.Net, tok string) {
	cli := labCLI(t, n, tok) // failing this subtest, not its parent
	sw := lab.StartSwitch(t, n, discoverySwitch)
	pool := n.Addr(200).String() + "-" + n.Addr(220).String()
	cli("subnet", "edit", "lab", "--pool", pool, "--discovery", "on", "--enrol-bmc", "on")
	cli("setting", "set", registry.SettingDiscoveryArgs, "console=ttyS0 panic=10")
	cli("rule", "add", "a12", "--match", `lldp.switch == "`+discoverySwitch+`" && lldp.port =~ "Ethernet1/([0-9]+)"`,
		"--name", "a12-{{ .LLDP.PortNumber }}", "--profile", "deploy", "--ip", "auto", "--reinstall")

	opts := lab.VMOptions{
		Disk: lab.NewDisk(t, 4096), Disks: []string{lab.NewDisk(t, 1024)}, Serials: []string{"DISK-A", "DISK-B"},
		NICs:   []string{discoveryMAC2},
		SMBIOS: []string{"type=1,manufacturer=Dell Inc.,product=PowerEdge R650,serial=" + discoverySerial},
		Reboot: true, MemoryMiB: 1024,
	}
	bmc := lab.BMCOptions{Port: 623, InBand: true, LAN: &lab.BMCLAN{MAC: "52:54:00:d9:0b:01"}}
	vm := lab.NewPoweredVMWith(t, n, discoveryMAC, "factory-admin-pw", opts, bmc)
	start := time.Now()
	if out, err := vm.BMC.IPMItool("chassis", "power", "on"); err != nil { // once, by hand
		t.Fatalf("power on: %v: %s", err, out)
	}
	// The switch's ports, once their links are up (lldpd knows a port
	// from then), long before the agent listens.
	taps := vm.Taps()
	must(t, sw.SetPort(taps[0], "Ethernet1/7", "a12 port 7"))
	must(t, sw.SetPort(taps[1], "Ethernet1/8", "a12 port 8"))
	waitConsole(t, vm, start, 20*time.Minute, []vmStage{
		{"agent", `provision: inventory agent: this machine \(` + discoveryMAC + `\)`},
		{"deployer", `provision: deploying image debdisk`},
		{"deployed", `provision: deployed: disk vda 4096 MiB`},
		{"systemd from the disk", `Welcome to Debian`},
		{"booted", `provision: booted: a12-7`},
	})
	t.Logf("power-on to booted from its disk: %.1fs", time.Since(start).Seconds())
	logDiscoveryTimes(t, cli, start)

	// The inventory, kept for the system it became.
	var m registry.Machine
	must(t, json.Unmarshal([]byte(cli("discovered", "show", discoveryMAC, "--json")), &m))
	inv := m.Inventory
	if m.System != "a12-7" || inv.DMI.Serial != discoverySerial || inv.DMI.Product != "PowerEdge R650" {
		t.Errorf("machine %s: system %q, dmi %+v", m.MAC, m.System, inv.DMI)
	}
	serials := map[string]bool{}
	for _, d := range inv.Disks {
		serials[d.Serial] = true
	}
	macs := map[string]string{}
	for _, nic := range inv.NICs {
		if nic.LLDP != nil {
			macs[nic.MAC] = nic.LLDP.SwitchName + " " + nic.LLDP.PortID
		} else {
			macs[nic.MAC] = "-"
		}
	}
	if !serials["DISK-A"] || !serials["DISK-B"] {
		t.Errorf("disk serials %v, want DISK-A and DISK-B", serials)
	}
	if macs[discoveryMAC] != discoverySwitch+" Ethernet1/7" || macs[discoveryMAC2] != discoverySwitch+" Ethernet1/8" {
		t.Errorf("NICs and their LLDP neighbours: %v", macs)
	}
	if inv.BMC == nil || inv.BMC.IP != vm.BMC.Address {
		t.Errorf("BMC LAN settings %+v, want the address ipmi_sim has, %s", inv.BMC, vm.BMC.Address)
	}
	t.Logf("inventory:\n%s", cli("discovered", "show", discoveryMAC))

	// The BMC user made in-band, and the appliance's power with it.
	users, err := vm.BMC.IPMItool("user", "list", "1")
	if err != nil || !regexp.MustCompile(`(?m)^\s*\d+\s+provision\s`).MatchString(users) {
		t.Errorf("ipmi_sim's users (%v):\n%s", err, users)
	}
	var sys registry.System
	must(t, json.Unmarshal([]byte(cli("system", "show", "a12-7", "--json")), &sys))
	if sys.BMC == nil || sys.BMC.Address != vm.BMC.Address || sys.BMC.User != "provision" || !sys.BMC.PasswordSet {
		t.Errorf("system a12-7's BMC: %+v", sys.BMC)
	}
	if out := cli("power", "a12-7", "status", "--fresh"); out != "a12-7: on\n" {
		t.Errorf("power status with the enrolled user: %q", out)
	}

	// The twin: the same serial, another MAC, the same port of another
	// stack's switch: the rule's name is taken.
	twin := lab.NewPoweredVMWith(t, n, twinMAC, "factory-admin-pw", lab.VMOptions{
		SMBIOS: opts.SMBIOS, MemoryMiB: 512, Reboot: true,
	}, lab.BMCOptions{Port: 623, InBand: true, LAN: &lab.BMCLAN{}})
	twinStart := time.Now()
	if out, err := twin.BMC.IPMItool("chassis", "power", "on"); err != nil {
		t.Fatalf("power on the twin: %v: %s", err, out)
	}
	must(t, sw.SetPort(twin.Taps()[0], "Ethernet1/7", "a12 port 7 (stack 2)"))
	waitConsole(t, twin, twinStart, 10*time.Minute, []vmStage{{"agent", `provision: inventory agent`}})
	var tm registry.Machine
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(2 * time.Second) {
		out, _ := labTry(n, tok, "discovered", "show", twinMAC, "--json") // not found until it reports
		json.Unmarshal([]byte(out), &tm)
		if tm.Reason != "" && strings.Contains(tm.Reason, "a12-7") || time.Now().After(deadline) {
			break
		}
	}
	if tm.State != registry.MachineDiscovered || tm.System != "" || !strings.Contains(tm.Reason, "rule a12") || !strings.Contains(tm.Reason, "a12-7") {
		t.Errorf("the twin: state %s, system %q, reason %q; want discovered, with rule a12's conflict naming a12-7", tm.State, tm.System, tm.Reason)
	}
	t.Logf("the twin stays discovered: %s (%.1fs from power-on)", tm.Reason, time.Since(twinStart).Seconds())
	if list := cli("discovered", "list"); !strings.Contains(list, twinMAC) || strings.Contains(list, discoveryMAC) {
		t.Errorf("discovered list:\n%s", list)
	}

	// Re-inspection with a third disk, added with the machine off: the
	// history says so, and the system boots its disk again.
	if out, err := vm.BMC.IPMItool("chassis", "power", "off"); err != nil {
		t.Fatalf("power off: %v: %s", err, out)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if _, on := vm.BMC.MachinePID(); !on {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the machine is still on a minute after power off")
		}
	}
	opts.Disks = append(opts.Disks, lab.NewDisk(t, 2048))
	opts.Serials = append(opts.Serials, "DISK-C")
	must(t, vm.Reconfigure(opts))
	inspectStart := time.Now()
	cli("system", "inspect", "a12-7")
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(3 * time.Second) {
		if h := cli("history", "a12-7"); strings.Contains(h, "DISK-C") {
			t.Logf("inspection to history: %.1fs\n%s", time.Since(inspectStart).Seconds(), h)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DISK-C in a12-7's history after the inspection:\n%s\nconsole:\n%s", cli("history", "a12-7"), vm.Timed())
		}
	}
	waitCount(t, vm, "provision: booted: a12-7", 2, 8*time.Minute)
	t.Logf("inspection to booted from its disk again: %.1fs", time.Since(inspectStart).Seconds())
}

// waitConsole is waitVM for a PoweredVM, from start.
func waitConsole(t *testing.T, vm *lab.PoweredVM, start time.Time, timeout time.Duration, stages []vmStage) {
	t.Helper()
	deadline := start.Add(timeout)
	for _, s := range stages {
		if _, err := vm.WaitFor(regexp.MustCompile(s.pattern), time.Until(deadline)); err != nil {
			t.Fatalf("%s: %v\nconsole:\n%s", s.name, err, vm.Timed())
		}
		t.Logf("%5.1fs %s", time.Since(start).Seconds(), s.name)
	}
}

// logDiscoveryTimes logs when the machine's discovery events came, from
// its power-on: discovered (inventory stored), BMC enrolled, the rule.
func logDiscoveryTimes(t *testing.T, cli func(...string) string, start time.Time) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(cli("events", "--json", "--limit", "1000")))
	for {
		var e registry.Event
		if dec.Decode(&e) != nil {
			break
		}
		if e.System == discoveryMAC || e.System == "a12-7" {
			switch e.Kind {
			case registry.EventDiscovered, registry.EventBMCEnrolled, registry.EventBMCFailed, registry.EventRuleMatched, registry.EventRuleConflict, "booted":
				t.Logf("%6.1fs %s %s: %s", e.At.Sub(start).Seconds(), e.System, e.Kind, e.Detail)
			}
		}
	}
}

// labTry runs the CLI in the lab as labCLI does, returning its error
// instead of failing the test.
func labTry(n *lab.Net, token string, args ...string) (string, error) {
	cmd := n.Command(append([]string{cli}, args...)...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+n.ServerIP.String(), "PROVISION_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
