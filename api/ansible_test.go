package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/registry/registrytest"
)

// ansibleFleet is a registry over two subnets (one of site dc-1), two
// images and profiles, with settings and secrets at every level: the
// secrets' values all hold "s3cret", and no answer may.
func ansibleFleet(t *testing.T) *httptest.Server {
	t.Helper()
	reg := registrytest.Open(t)
	file := map[string]registry.File{"kernel": {SHA256: registrytest.SHA}, "initrd": {SHA256: registrytest.SHA}}
	sys := func(name, ip, mac, profile string, settings map[string]string) registry.System {
		return registry.System{Name: name, IP: ip, MACs: []string{mac}, Profile: profile, Netboot: true, Settings: settings}
	}
	web001 := sys("web001", "10.0.0.11", "aa:bb:cc:dd:ee:01", "web", nil)
	web001.BMC = &registry.BMC{Address: "10.0.1.101", User: "admin", Password: "s3cret-bmc"}
	db001 := sys("db001", "10.0.1.21", "aa:bb:cc:dd:ee:03", "db.main", map[string]string{"rack": "A 1"})
	db001.SecretSettings = registry.SecretSettings{"role": "s3cret-role"} // hides the profile's role
	registrytest.Import(t, reg, registry.Document{
		Settings:       map[string]string{"ntp": "10.0.0.2", "role": "base"},
		SecretSettings: map[string]registry.Secret{"root.hash": "s3cret-root"},
		Subnets: []registry.Subnet{{Name: "lan", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1", Site: "dc-1"},
			{Name: "mgmt", CIDR: "10.0.1.0/24", Gateway: "10.0.1.1"}},
		Images: []registry.Image{{Name: "img", Kind: registry.KindInstall, Files: file},
			{Name: "img-2", Kind: registry.KindInstall, Files: file}},
		Profiles: []registry.Profile{
			{Name: "web", Image: "img", Settings: map[string]string{"role": "web-front"}, SecretSettings: registry.SecretSettings{"db.pw": "s3cret-db"}},
			{Name: "db.main", Image: "img-2", Settings: map[string]string{"role": "db"}}},
		Systems: []registry.System{web001, db001,
			sys("web002", "10.0.1.12", "aa:bb:cc:dd:ee:02", "web", map[string]string{"role": "lvs", "rack": "A.1"})},
	})
	srv := httptest.NewServer(validated(t, Handler(Config{Registry: reg, Auth: Tokens("tok", "ro"),
		Log: slog.New(slog.DiscardHandler), Metrics: prometheus.NewRegistry()})))
	t.Cleanup(srv.Close)
	return srv
}

func getInventory(t *testing.T, srv *httptest.Server, query string) (int, string, AnsibleInventory) {
	t.Helper()
	code, body := call(t, "GET", srv.URL+"/api/v1/inventory"+query, "ro", "")
	var inv AnsibleInventory
	if code == 200 {
		if err := json.Unmarshal([]byte(body), &inv); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return code, body, inv
}

// The inventory groups by profile, image, site, subnet, state and the
// settings asked for, each KEY group holding its KEY_VALUE groups; a
// secret or missing value groups nothing.
func TestAnsibleInventoryGroups(t *testing.T) {
	srv := ansibleFleet(t)
	code, body, inv := getInventory(t, srv, "?group_by=role&group_by=rack&group_by=ROLE")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	g := func(hosts ...string) *AnsibleGroup { return &AnsibleGroup{Hosts: hosts} }
	p := func(children ...string) *AnsibleGroup { return &AnsibleGroup{Children: children} }
	state := inv.Hostvars["web001"].Status
	want := map[string]*AnsibleGroup{
		"all":     p("image", "profile", "rack", "role", "site", "state", "subnet"),
		"profile": p("profile_db_main", "profile_web"), "profile_db_main": g("db001"), "profile_web": g("web001", "web002"),
		"image": p("image_img", "image_img_2"), "image_img": g("web001", "web002"), "image_img_2": g("db001"),
		"site": p("site_dc_1"), "site_dc_1": g("web001"),
		"subnet": p("subnet_lan", "subnet_mgmt"), "subnet_lan": g("web001"), "subnet_mgmt": g("db001", "web002"),
		"state": p("state_" + state), "state_" + state: g("db001", "web001", "web002"),
		"rack": p("rack_A_1"), "rack_A_1": g("db001", "web002"),
		"role": p("role_lvs", "role_web_front"), "role_lvs": g("web002"), "role_web_front": g("web001"),
	}
	if d := cmp.Diff(want, inv.Groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	for _, s := range []string{"db001", "web001", "web002"} {
		if inv.Hostvars[s].Status != state {
			t.Errorf("%s: state %q, web001's %q: the fixture wants one state", s, inv.Hostvars[s].Status, state)
		}
	}
}

// Host vars: where Ansible connects, the registry's fields, the BMC
// without its password and the effective settings without the secret
// ones; ?host=NAME answers the same as _meta.hostvars.
func TestAnsibleInventoryHostVars(t *testing.T) {
	srv := ansibleFleet(t)
	_, body, inv := getInventory(t, srv, "")
	want := AnsibleHost{AnsibleHost: "10.0.0.11", IP: "10.0.0.11", Hostname: "web001.dsas", MACs: []string{"aa:bb:cc:dd:ee:01"},
		Interfaces: []InterfaceView{{Interface: registry.Interface{Name: "eth0", MAC: "aa:bb:cc:dd:ee:01", Primary: true}, Kind: "physical", Address: "10.0.0.11"}},
		BMC:        &AnsibleBMC{Address: "10.0.1.101", User: "admin", Provider: "ipmi"}, Profile: "web", Image: "img", Subnet: "lan", Site: "dc-1",
		Status: inv.Hostvars["web001"].Status, Settings: map[string]string{"ntp": "10.0.0.2", "role": "web-front"}}
	if d := cmp.Diff(want, inv.Hostvars["web001"]); d != "" {
		t.Errorf("web001 (-want +got):\n%s", d)
	}
	if got := inv.Hostvars["db001"].Settings; cmp.Diff(map[string]string{"ntp": "10.0.0.2", "rack": "A 1"}, got) != "" {
		t.Errorf("db001's settings %v: want ntp and rack only (role and root.hash are secret)", got)
	}
	if strings.Contains(body, "s3cret") || strings.Contains(body, "password") {
		t.Errorf("the inventory shows a secret:\n%s", body)
	}
	code, one := call(t, "GET", srv.URL+"/api/v1/inventory?host=web001&group_by=role", "ro", "")
	var h AnsibleHost
	if err := json.Unmarshal([]byte(one), &h); code != 200 || err != nil {
		t.Fatalf("?host=web001: %d %s", code, one)
	}
	if d := cmp.Diff(inv.Hostvars["web001"], h); d != "" {
		t.Errorf("?host=web001 differs from _meta.hostvars (-list +host):\n%s", d)
	}
}

// Group names keep Ansible's rules: ASCII letters, digits and '_', not
// starting with a digit.
func TestAnsibleGroupName(t *testing.T) {
	for _, c := range []struct{ key, value, want string }{
		{"profile", "centos-web", "profile_centos_web"},
		{"subnet", "lan.10", "subnet_lan_10"},
		{"lvs.vrid", "7", "lvs_vrid_7"},
		{"1st", "x", "_1st_x"},
		{"role", "héllo wörld\n;rm -rf /", "role_h_llo_w_rld__rm__rf__"},
		{"Rack_A", "B2", "Rack_A_B2"},
	} {
		if got := AnsibleGroupName(c.key, c.value); got != c.want {
			t.Errorf("AnsibleGroupName(%q, %q) = %q, want %q", c.key, c.value, got, c.want)
		}
	}
}

// A group_by that would make groups Ansible or the inventory already has
// is refused, saying why; so are bad keys, unknown hosts and too many keys.
func TestAnsibleInventoryRefuses(t *testing.T) {
	srv := ansibleFleet(t)
	many := url.Values{}
	for i := range maxGroupBy + 1 {
		many.Add("group_by", fmt.Sprintf("k%d", i))
	}
	for _, c := range []struct {
		query string
		code  int
		want  string
	}{
		{"?group_by=profile", 400, "group_by profile: group profile is the inventory's own grouping"},
		{"?group_by=all", 400, "group_by all: group all is Ansible's own"},
		{"?group_by=a.b&group_by=a_b", 400, "group_by a_b: group a_b is made by group_by a.b"},
		{"?group_by=bad%20key", 400, `group_by: setting key \"bad key\": \"bad key\" is not a DNS label`},
		{"?" + many.Encode(), 400, "group_by: 33 keys, at most 32"},
		{"?host=nope", 404, "system nope not found"},
	} {
		if code, body, _ := getInventory(t, srv, c.query); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET inventory%s: %d %s; want %d %q", c.query, code, body, c.code, c.want)
		}
	}
}
