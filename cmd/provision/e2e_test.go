package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed creates the objects most tests need: subnet lan, image centos,
// profiles centos-web and centos-db.
func seed(t *testing.T, s *server) {
	t.Helper()
	dir := t.TempDir()
	kernel, initrd := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "initrd.img")
	os.WriteFile(kernel, []byte(strings.Repeat("kernel", 5000)), 0o644)
	os.WriteFile(initrd, []byte(strings.Repeat("initrd", 5000)), 0o644)
	s.ok("subnet", "add", "lan", "--cidr", "10.0.0.0/24", "--gateway", "10.0.0.1", "--pool", "10.0.0.200-10.0.0.250", "--dns-server", "10.0.0.2")
	s.ok("subnet", "add", "mgmt", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1")
	s.ok("image", "add", "centos", "--kernel", kernel, "--initrd", initrd)
	s.ok("profile", "add", "centos-web", "--image", "centos", "--kernel-args", "console=ttyS0", "--set", "role=web")
	ks := filepath.Join(dir, "db.ks")
	os.WriteFile(ks, []byte("# kickstart of {{.System.Name}}\nnetwork --ip={{.System.IP}}\n%post\ncurl -X POST {{.URLs.Done}}\n%end\n"), 0o644)
	s.ok("template", "add", "db.ks", "--file", ks, "--kind", "kickstart")
	s.ok("profile", "add", "centos-db", "--image", "centos", "--kickstart", "db.ks")
}

func TestCLIEndToEnd(t *testing.T) {
	defer parallel(t)()
	s := startServer(t, t.TempDir())
	seed(t, s)
	pwEnv := []string{"BMC_PW=bmc-pass-e2e"}
	r := s.run(pwEnv, "system", "add", "web001", "--mac", "AA-BB-CC-DD-EE-01", "--ip", "10.0.0.11", "--profile", "centos-web",
		"--bmc-address", "10.0.1.11", "--bmc-user", "admin", "--bmc-password-env", "BMC_PW", "--set", "lvs.vrid=7")
	if r.Code != 0 {
		t.Fatalf("system add: %s", r.Err)
	}
	add := func(name, mac, ip string, extra ...string) []string {
		return append([]string{"system", "add", name, "--mac", mac, "--ip", ip, "--profile", "centos-web"}, extra...)
	}
	s.fails("ip 10.0.0.11 is already used by system web001", add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.11")...)
	s.fails("mac aa:bb:cc:dd:ee:01 is already used by system web001", add("web002", "aabb.ccdd.ee01", "10.0.0.12")...)
	s.fails("mac aa:bb:cc:dd:ee:01 is already used by system web001", add("web002", "AABBCCDDEE01", "10.0.0.12")...)
	s.fails("system web001 already exists", add("web001", "aa:bb:cc:dd:ee:02", "10.0.0.12")...)
	s.fails("hostname web001.internal is already used by system web001", add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12", "--hostname", "web001.internal")...)
	s.fails("ip 192.168.5.5 is not inside any subnet", add("web002", "aa:bb:cc:dd:ee:02", "192.168.5.5")...)
	s.fails("ip 10.0.0.1 is the gateway of subnet lan", add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.1")...)
	s.fails("ip 10.0.0.255 is the broadcast address of subnet lan", add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.255")...)
	s.fails("ip 10.0.0.230 is inside the dynamic pool 10.0.0.200-10.0.0.250 of subnet lan", add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.230")...)
	s.fails("ip 10.0.1.11 is already the BMC address of system web001", add("web002", "aa:bb:cc:dd:ee:02", "10.0.1.11")...)
	s.fails(`mac "zz:zz": not a 48-bit MAC address`, add("web002", "zz:zz", "10.0.0.12")...)
	s.fails("that environment variable is empty or not set", "system", "add", "web002", "--mac", "aa:bb:cc:dd:ee:02", "--ip", "10.0.0.12", "--profile", "centos-web", "--bmc-address", "10.0.1.12", "--bmc-password-env", "NO_SUCH_VAR")

	s.ok(add("web002", "aa:bb:cc:dd:ee:02", "10.0.0.12", "--netboot=false")...)
	// rename and profile change keep the same IP, MAC and BMC without conflicting with themselves
	s.ok("system", "edit", "web001", "--rename", "web101", "--profile", "centos-db")
	var sys map[string]any
	json.Unmarshal([]byte(s.ok("system", "show", "web101", "--json")), &sys)
	if sys["profile"] != "centos-db" || sys["hostname"] != "web101.internal" || sys["ip"] != "10.0.0.11" {
		t.Fatalf("after rename: %v", sys)
	}
	if bmc := sys["bmc"].(map[string]any); bmc["password_set"] != true {
		t.Fatalf("rename lost the BMC password: %v", bmc)
	}
	s.fails("system web001 not found", "system", "show", "web001")
	list := s.ok("system", "list")
	for _, want := range []string{"web101", "web002", "aa:bb:cc:dd:ee:01", "false"} {
		if !strings.Contains(list, want) {
			t.Errorf("system list lacks %q:\n%s", want, list)
		}
	}
	s.fails("profile centos-db is in use by system web101", "profile", "remove", "centos-db")
	s.fails("image centos is in use by profile centos-db, centos-web", "image", "remove", "centos")
	s.fails("subnet lan is in use by system web002, web101", "subnet", "remove", "lan")
	s.fails("ip 10.0.0.11 of system web101 would be inside the dynamic pool 10.0.0.10-10.0.0.20", "subnet", "edit", "lan", "--pool", "10.0.0.10-10.0.0.20")
	s.ok("subnet", "edit", "lan", "--pool", "", "--dns-server", "10.0.0.3")
	var lan map[string]any
	json.Unmarshal([]byte(s.ok("subnet", "show", "lan", "--json")), &lan)
	if lan["pool"] != nil || fmt.Sprint(lan["dns_servers"]) != "[10.0.0.3]" || lan["gateway"] != "10.0.0.1" {
		t.Fatalf("after subnet edit: %v", lan)
	}

	s.ok("setting", "set", "lvs.vrid", "100")
	s.ok("setting", "set", "net.private", "192.168.0.0/20")
	if got := s.ok("setting", "get", "lvs.vrid"); got != "100\n" {
		t.Fatalf("setting get: %q", got)
	}
	s.ok("setting", "unset", "net.private")
	s.fails("setting net.private not found", "setting", "get", "net.private")
	s.fails("not a DNS label", "setting", "set", "bad key", "1")
	var settings []map[string]string
	json.Unmarshal([]byte(s.ok("setting", "list", "--json")), &settings)
	if len(settings) != 1 || settings[0]["key"] != "lvs.vrid" {
		t.Fatalf("setting list: %v", settings)
	}
	for _, kind := range []string{"subnet", "image", "profile", "system"} {
		var items []any
		if err := json.Unmarshal([]byte(s.ok(kind, "list", "--json")), &items); err != nil || len(items) < 1 {
			t.Errorf("%s list --json: %v %v", kind, items, err)
		}
	}
	if h := s.ok("history", "web001"); !strings.Contains(h, "add") || !strings.Contains(h, "rename") {
		t.Fatalf("history web001:\n%s", h)
	}
	s.ok("system", "remove", "web002")
	s.ok("profile", "add", "tmp", "--image", "centos")
	s.ok("profile", "edit", "tmp", "--kernel-args", "quiet", "--set", "a=1")
	s.ok("profile", "remove", "tmp")
	s.ok("subnet", "add", "spare", "--cidr", "10.9.0.0/24")
	s.ok("subnet", "remove", "spare")
	if r := s.run(nil, "system", "add"); r.Code != 2 {
		t.Errorf("usage error: exit %d, want 2", r.Code)
	}
}
