package cobbler

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var updateFixture = flag.Bool("update-fixture", false, "rewrite testdata/cobbler/collections/systems from fixtureSystems")

const systemsDir = "testdata/cobbler/collections/systems"

// fixtureSystems are the 52 systems of the fixture, as Cobbler 3.3 writes
// them, with the conflicts Cobbler let through (allow_duplicate_ips and
// allow_duplicate_macs on):
//
//   - web013 and web014 have one IP, 10.10.0.23;
//   - web020 and db003 have one MAC on eth1, 52:54:00:11:00:14;
//   - cache004's eth0 MAC is not a MAC;
//   - the app systems' distro, ubuntu22-x86_64, has no files.
func fixtureSystems() []map[string]any {
	var out []map[string]any
	for i := 1; i <= 24; i++ {
		name := fmt.Sprintf("web%03d", i)
		ip := fmt.Sprintf("10.10.0.%d", 10+i)
		if i == 14 {
			ip = "10.10.0.23" // web013's
		}
		s := system(name, "centos7-web", name+".dc1.example.com", i > 20, map[string]any{
			"eth0": iface(fmt.Sprintf("52:54:00:10:00:%02x", i), ip, "255.255.255.0", "10.10.0.1", name+".dc1.example.com", true),
			"eth1": iface(fmt.Sprintf("52:54:00:11:00:%02x", i), fmt.Sprintf("10.20.0.%d", 10+i), "255.255.255.0", "", "", false),
		})
		power(s, "ipmilanplus", fmt.Sprintf("10.0.1.%d", 10+i), "admin", "bmc-"+name)
		s["gateway"] = "10.10.0.1"
		switch i {
		case 1:
			s["kernel_options"] = map[string]any{"nomodeset": nil}
		case 2:
			s["boot_loaders"] = []any{"grub"}
		case 3:
			s["mgmt_classes"] = []any{"haproxy"}
		}
		out = append(out, s)
	}
	for i := 1; i <= 8; i++ {
		name := fmt.Sprintf("db%03d", i)
		storageMAC := fmt.Sprintf("52:54:00:21:00:%02x", i)
		if i == 3 {
			storageMAC = "52:54:00:11:00:14" // web020's eth1
		}
		s := system(name, "rocky9-db", name, false, map[string]any{
			"eth0": iface(fmt.Sprintf("52:54:00:20:00:%02x", i), fmt.Sprintf("10.10.1.%d", 10+i), "255.255.255.0", "10.10.1.1", name+".dc1.example.com", true),
			"eth1": iface(storageMAC, fmt.Sprintf("10.20.0.%d", 100+i), "255.255.255.0", "", "", false),
		})
		power(s, "redfish", fmt.Sprintf("10.0.1.%d", 100+i), "root", "calvin-"+name)
		s["autoinstall_meta"] = map[string]any{"mysql.server_id": fmt.Sprint(i)}
		out = append(out, s)
	}
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("lb%03d", i)
		bond := iface("", fmt.Sprintf("10.10.2.%d", 10+i), "255.255.255.0", "10.10.2.1", name+".dc1.example.com", true)
		bond["interface_type"], bond["bonding_opts"] = "bond", "mode=802.3ad miimon=100"
		bond["static_routes"] = []any{"10.30.0.0/16:10.10.2.254"}
		ifaces := map[string]any{"bond0": bond}
		for n := range 2 {
			slave := iface(fmt.Sprintf("52:54:00:30:%02x:%02x", n, i), "", "", "", "", false)
			slave["interface_type"], slave["interface_master"] = "bond_slave", "bond0"
			ifaces[fmt.Sprintf("eth%d", n)] = slave
		}
		s := system(name+".dc1.example.com", "debian12-lb", "", false, ifaces)
		power(s, "apc_snmp", "10.0.2.5", "apc", "apc")
		s["power_id"] = fmt.Sprint(i)
		s["name_servers"] = []any{"10.10.0.2", "10.10.0.3"}
		out = append(out, s)
	}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("app%03d", i)
		out = append(out, system(name, "ubuntu22-app", name+".dc1.example.com", true, map[string]any{
			"eth0": iface(fmt.Sprintf("52:54:00:40:00:%02x", i), fmt.Sprintf("10.10.0.%d", 100+i), "255.255.255.0", "10.10.0.1", "", true),
		}))
	}
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("mon%03d", i)
		s := system(name, "centos7-base", "", false, map[string]any{
			"eth0": iface(fmt.Sprintf("52:54:00:50:00:%02x", i), fmt.Sprintf("10.10.0.%d", 60+i), "255.255.255.0", "10.10.0.1", name+".dc1.example.com", false),
		})
		power(s, "ipmilan", fmt.Sprintf("10.0.1.%d", 60+i), "admin", "bmc-"+name)
		out = append(out, s)
	}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("cache%03d", i)
		mac := fmt.Sprintf("52:54:00:60:00:%02x", i)
		if i == 4 {
			mac = "52:54:00:zz:00:04"
		}
		out = append(out, system(name, "rocky9-rescue", name+".dc1.example.com", true, map[string]any{
			"eth0": iface(mac, fmt.Sprintf("10.10.1.%d", 50+i), "255.255.255.0", "10.10.1.1", "", false),
		}))
	}
	return out
}

// system is a Cobbler 3.3 system with its defaults.
func system(name, profile, hostname string, netboot bool, ifaces map[string]any) map[string]any {
	return map[string]any{
		"autoinstall": "<<inherit>>", "autoinstall_meta": "<<inherit>>", "boot_files": "<<inherit>>",
		"boot_loaders": "<<inherit>>", "comment": "", "ctime": 1717172000.0, "depth": 2,
		"enable_ipxe": "<<inherit>>", "fetchable_files": "<<inherit>>", "filename": "<<inherit>>",
		"gateway": "", "hostname": hostname, "image": "", "interfaces": ifaces,
		"ipv6_autoconfiguration": false, "ipv6_default_device": "", "kernel_options": "<<inherit>>",
		"kernel_options_post": "<<inherit>>", "mgmt_classes": "<<inherit>>", "mgmt_parameters": "<<inherit>>",
		"mtime": 1717172000.0, "name": name, "name_servers": []any{}, "name_servers_search": []any{},
		"netboot_enabled": netboot, "next_server_v4": "<<inherit>>", "next_server_v6": "<<inherit>>",
		"owners": "<<inherit>>", "power_address": "", "power_id": "", "power_identity_file": "",
		"power_options": "", "power_pass": "", "power_type": "ipmilanplus", "power_user": "",
		"profile": profile, "proxy": "<<inherit>>", "redhat_management_key": "<<inherit>>",
		"repos_enabled": false, "serial_baud_rate": -1, "serial_device": -1, "server": "<<inherit>>",
		"status": "", "template_files": "<<inherit>>", "uid": fmt.Sprintf("%032x", []byte(name))[:32],
		"virt_auto_boot": "<<inherit>>", "virt_cpus": "<<inherit>>", "virt_disk_driver": "<<inherit>>",
		"virt_file_size": "<<inherit>>", "virt_path": "<<inherit>>", "virt_pxe_boot": false,
		"virt_ram": "<<inherit>>", "virt_type": "<<inherit>>",
	}
}

// iface is a Cobbler 3.3 network interface with its defaults.
func iface(mac, ip, netmask, gateway, dnsName string, management bool) map[string]any {
	return map[string]any{
		"bonding_opts": "", "bridge_opts": "", "cnames": []any{}, "connected_mode": false,
		"dhcp_tag": "", "dns_name": dnsName, "if_gateway": gateway, "interface_master": "",
		"interface_type": "na", "ip_address": ip, "ipv6_address": "", "ipv6_default_gateway": "",
		"ipv6_mtu": "", "ipv6_prefix": "", "ipv6_secondaries": []any{}, "ipv6_static_routes": []any{},
		"mac_address": mac, "management": management, "mtu": "", "netmask": netmask,
		"static": ip != "", "static_routes": []any{}, "virt_bridge": "<<inherit>>",
	}
}

func power(s map[string]any, typ, addr, user, pass string) {
	s["power_type"], s["power_address"], s["power_user"], s["power_pass"] = typ, addr, user, pass
}

// fixtureFiles renders fixtureSystems as Cobbler writes them: one file a
// system, indented by 4, keys sorted.
func fixtureFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	for _, s := range fixtureSystems() {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<<inherit>>", not "\u003c\u003cinherit..."
		enc.SetIndent("", "    ")
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		files[s["name"].(string)+".json"] = b.Bytes()
	}
	return files
}

// The committed systems are fixtureSystems': -update-fixture writes them.
func TestFixtureSystems(t *testing.T) {
	want := fixtureFiles(t)
	if *updateFixture {
		os.RemoveAll(systemsDir)
		os.MkdirAll(systemsDir, 0o755)
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(systemsDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	have, _ := filepath.Glob(filepath.Join(systemsDir, "*.json"))
	if len(have) != len(want) {
		t.Fatalf("%s has %d files, fixtureSystems %d: go test ./cobbler -run TestFixtureSystems -update-fixture", systemsDir, len(have), len(want))
	}
	for _, f := range have {
		b, _ := os.ReadFile(f)
		if w, ok := want[filepath.Base(f)]; !ok || !bytes.Equal(b, w) {
			t.Errorf("%s is not fixtureSystems': go test ./cobbler -run TestFixtureSystems -update-fixture", f)
		}
	}
	if len(want) < 50 || !slices.ContainsFunc(fixtureSystems(), func(s map[string]any) bool { return s["name"] == "web014" }) {
		t.Errorf("the fixture has %d systems, want 50 or more", len(want))
	}
}
