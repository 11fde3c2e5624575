package main

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
)

// sampleInventory is a machine as its agent reports it: two disks and
// two NICs, the boot NIC cabled to port Ethernet1/PORT of switch tor-a12,
// and a BMC at bmcIP. Its vendor carries an escape sequence, as a
// hostile or broken firmware's might.
func sampleInventory(mac, nic2, serial, port, bmcIP string) inventory.Inventory {
	return inventory.Inventory{
		MAC: mac, BootMode: inventory.BootUEFI,
		DMI:       inventory.DMI{Vendor: "Acme\x1b[31m", Product: "R650", Serial: serial, UUID: "4c4c4544-0000-1000-8000-" + strings.ReplaceAll(mac, ":", "")[:12]},
		CPU:       inventory.CPU{Model: "Xeon", Sockets: 2, Cores: 16, Threads: 32},
		MemoryMiB: 65536,
		Disks: []inventory.Disk{
			{Name: "vda", Path: "/dev/vda", Serial: serial + "-D1", SizeBytes: 2 << 30},
			{Name: "vdb", Path: "/dev/vdb", Serial: serial + "-D2", SizeBytes: 4 << 30, Rotational: true},
		},
		NICs: []inventory.NIC{
			{Name: "eth0", MAC: mac, Driver: "virtio_net", Link: true, SpeedMbs: 1000,
				LLDP: &inventory.LLDP{ChassisID: "02:00:00:00:aa:12", SwitchName: "tor-a12", PortID: "Ethernet1/" + port, VLAN: 12}},
			{Name: "eth1", MAC: nic2, Driver: "virtio_net"},
		},
		BMC:   &inventory.BMCLAN{Channel: 1, IP: bmcIP, MAC: "02:00:00:00:bb:01", Source: "static"},
		Agent: "test",
	}
}

// reportInventory posts inv to the appliance's discovery endpoint as its
// agent does, from the machine's address from.
func reportInventory(t *testing.T, s *server, from string, inv inventory.Inventory) {
	t.Helper()
	b, err := json.Marshal(inventory.Report{Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	code, body := httpFrom(t, from, "POST", s.URL+"/discovery/inventory", string(b))
	if code != http.StatusOK {
		t.Fatalf("POST /discovery/inventory of %s from %s: %d %s", inv.MAC, from, code, body)
	}
}

// The discovered machines through the CLI and the API: a subnet's
// discovery flags; two machines that reported, listed (a page at a time
// by the API) and shown whole, control characters stripped; a rule
// refused for a misspelt field, added, tested and edited; an accept with
// --ip auto that makes a system of every NIC, and its inventory shown
// through the system; a name conflict refused naming the other system;
// watch, remove and inspect.
func TestDiscoveredCLI(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)

	// A subnet's discovery and BMC enrolment: set, shown, cleared.
	s.ok("subnet", "add", "loop", "--cidr", "127.0.0.0/24", "--pool", "127.0.0.200-127.0.0.250", "--discovery", "on")
	if out := s.ok("subnet", "show", "loop"); !strings.Contains(out, "discovery: true") {
		t.Errorf("subnet show loop after add --discovery on:\n%s", out)
	}
	s.ok("subnet", "edit", "lan", "--discovery", "on", "--enrol-bmc", "on")
	if out := s.ok("subnet", "show", "lan"); !strings.Contains(out, "discovery: true") || !strings.Contains(out, "enrol_bmc: true") {
		t.Errorf("subnet show lan after edit --discovery on --enrol-bmc on:\n%s", out)
	}
	if out := s.ok("subnet", "list"); !strings.Contains(out, "on, enrol-bmc") {
		t.Errorf("subnet list does not show lan's discovery:\n%s", out)
	}
	s.ok("subnet", "edit", "lan", "--discovery", "off", "--enrol-bmc", "off")
	if out := s.ok("subnet", "show", "lan"); strings.Contains(out, "discovery") || strings.Contains(out, "enrol_bmc") {
		t.Errorf("subnet show lan after --discovery off --enrol-bmc off:\n%s", out)
	}
	if r := s.run(nil, "subnet", "edit", "lan", "--discovery", "yes"); r.Code != 2 || !strings.Contains(r.Err, `--discovery "yes": want on or off`) {
		t.Errorf("subnet edit --discovery yes: exit %d, %q; want a usage error", r.Code, r.Err)
	}

	const macA, macB = "52:54:00:00:29:01", "52:54:00:00:29:02"
	reportInventory(t, s, "127.0.0.21", sampleInventory(macA, "52:54:00:00:29:a1", "SER-A", "7", "10.0.1.41"))
	reportInventory(t, s, "127.0.0.22", sampleInventory(macB, "52:54:00:00:29:b1", "SER-B", "8", "10.0.1.42"))

	list := s.ok("discovered", "list")
	for _, want := range []string{macA, macB, "SER-A", "tor-a12 Ethernet1/7", "2x 16c/32t, 64.0 GiB", "2, 6.0 GiB", "10.0.1.41", "Acme[31m R650"} {
		if !strings.Contains(list, want) {
			t.Errorf("discovered list lacks %q:\n%s", want, list)
		}
	}
	show := s.ok("discovered", "show", "SER-A")
	for _, want := range []string{macA, "52:54:00:00:29:a1", "SER-A-D1", "SER-A-D2", "tor-a12", "Ethernet1/7", "vlan 12", "10.0.1.41", "uefi"} {
		if !strings.Contains(show, want) {
			t.Errorf("discovered show SER-A lacks %q:\n%s", want, show)
		}
	}
	if strings.ContainsRune(list+show, 0x1b) {
		t.Error("a control character from the inventory reached the terminal")
	}
	var m registry.Machine
	if err := json.Unmarshal([]byte(s.ok("discovered", "show", macB, "--json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.MAC != macB || m.State != registry.MachineDiscovered || m.Inventory.DMI.Serial != "SER-B" || len(m.Inventory.Disks) != 2 {
		t.Errorf("discovered show %s --json: %+v", macB, m)
	}
	s.fails("machine NOPE not found", "discovered", "show", "NOPE")
	if r := s.run(nil, "__complete", "discovered", "show", ""); !strings.Contains(r.Out, macA+"\n") || !strings.Contains(r.Out, macB+"\n") {
		t.Errorf("discovered show <TAB> offers %q, want both MACs", r.Out)
	}
	if out := s.ok("discovered", "list", "-o", "yaml"); !strings.Contains(out, "serial: SER-A") {
		t.Errorf("discovered list -o yaml:\n%s", out)
	}

	// The API pages: one machine a page, the next named by Link.
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/machines?state=discovered&limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page []registry.Machine
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if link := resp.Header.Get("Link"); len(page) != 1 || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, "state=discovered") {
		t.Errorf("GET /api/v1/machines?limit=1: %d machines, Link %q; want 1 and a next page", len(page), link)
	}
	if code, body := s.get("/api/v1/machines?state=lost"); code != http.StatusBadRequest {
		t.Errorf("GET /api/v1/machines?state=lost: %d %s", code, body)
	}

	// Rules: a misspelt field refused when the rule is written, naming it.
	s.fails("swich", "rule", "add", "typo", "--match", `lldp.swich == "tor-a12"`, "--name", "a12-{{ .LLDP.PortNumber }}", "--profile", "centos-web")
	s.ok("rule", "add", "tor-a12", "--match", `lldp.switch == "tor-a12" && lldp.port =~ "Ethernet1/([0-9]+)"`,
		"--name", "a12-{{ .LLDP.PortNumber }}", "--profile", "centos-web", "--ip", "auto", "--subnet", "lan", "--priority", "20")
	if out := s.ok("rule", "list"); !strings.Contains(out, "tor-a12") || !strings.Contains(out, "a12-{{ .LLDP.PortNumber }}") || !strings.Contains(out, "20") {
		t.Errorf("rule list:\n%s", out)
	}
	if out := s.ok("rule", "test", "tor-a12", "SER-A"); !strings.Contains(out, "system a12-7") || !strings.Contains(out, "ip 10.0.0.") {
		t.Errorf("rule test tor-a12 SER-A: %s", out)
	}
	if m := machineJSON(t, s, macA); m.State != registry.MachineDiscovered || m.System != "" {
		t.Errorf("rule test wrote to machine %s: %+v", macA, m)
	}
	s.ok("rule", "edit", "tor-a12", "--priority", "5")
	if out := s.ok("rule", "show", "tor-a12"); !strings.Contains(out, "priority: 5") {
		t.Errorf("rule show after edit --priority 5:\n%s", out)
	}
	s.fails("rule nope not found", "rule", "test", "nope", macA)

	// Accept with --ip auto: a system of both NICs, boot MAC first, with
	// an address of lan outside its pool and gateway.
	out := s.ok("discovered", "accept", "SER-A", "--name", "web029", "--profile", "centos-web", "--ip", "auto", "--subnet", "lan")
	if !strings.Contains(out, "system web029") {
		t.Errorf("discovered accept: %s", out)
	}
	sys := systemJSON(t, s, "web029")
	ip, err := netip.ParseAddr(sys.IP)
	if err != nil || !netip.MustParsePrefix("10.0.0.0/24").Contains(ip) || sys.IP == "10.0.0.1" || ip.Compare(netip.MustParseAddr("10.0.0.200")) >= 0 {
		t.Errorf("accepted with --ip auto, web029 has ip %q: want a free address of lan, not its gateway or pool", sys.IP)
	}
	if len(sys.MACs) != 2 || sys.MACs[0] != macA || sys.MACs[1] != "52:54:00:00:29:a1" {
		t.Errorf("web029's MACs %v: want the boot MAC, then the other NIC's", sys.MACs)
	}
	inv := s.ok("system", "inventory", "web029")
	for _, want := range []string{"SER-A-D1", "SER-A-D2", "tor-a12", "registered"} {
		if !strings.Contains(inv, want) {
			t.Errorf("system inventory web029 lacks %q:\n%s", want, inv)
		}
	}
	if out := s.ok("discovered", "list"); strings.Contains(out, macA) {
		t.Errorf("the accepted machine is still listed as discovered:\n%s", out)
	}
	if out := s.ok("discovered", "list", "--all"); !strings.Contains(out, macA) || !strings.Contains(out, "web029") || !strings.Contains(out, "registered") {
		t.Errorf("discovered list --all lacks the accepted machine:\n%s", out)
	}
	s.ok("system", "add", "web001", "--mac", "aa:bb:cc:dd:ee:01", "--ip", "10.0.0.11", "--profile", "centos-web")
	s.fails("system web001 has no inventory", "system", "inventory", "web001")

	// A name another system has: refused, naming it; B stays discovered.
	s.fails("web029", "discovered", "accept", macB, "--name", "web029", "--profile", "centos-web")
	if m := machineJSON(t, s, macB); m.State != registry.MachineDiscovered {
		t.Errorf("after a refused accept %s is %s", macB, m.State)
	}

	// Watch, remove, inspect.
	if out := s.ok("discovered", "watch", macB); !strings.Contains(out, "stays up") || !machineJSON(t, s, macB).Watch {
		t.Errorf("discovered watch: %s", out)
	}
	if out := s.ok("discovered", "watch", macB, "--off"); !strings.Contains(out, "powers off") || machineJSON(t, s, macB).Watch {
		t.Errorf("discovered watch --off: %s", out)
	}
	s.ok("discovered", "remove", macB)
	s.fails("machine "+macB+" not found", "discovered", "show", macB)
	r := s.run(nil, "system", "inspect", "web029")
	if r.Code != 0 || !strings.Contains(r.Out, "next network boot runs the inventory agent") || !strings.Contains(r.Err, "has no BMC") {
		t.Errorf("system inspect web029 (no BMC): exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	s.fails("system nope not found", "system", "inspect", "nope")
	s.ok("rule", "remove", "tor-a12")
	if out := s.ok("rule", "list"); strings.Contains(out, "tor-a12") {
		t.Errorf("rule list after remove:\n%s", out)
	}
}

func machineJSON(t *testing.T, s *server, key string) registry.Machine {
	t.Helper()
	var m registry.Machine
	if err := json.Unmarshal([]byte(s.ok("discovered", "show", key, "--json")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
